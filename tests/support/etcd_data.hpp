// Shaping a test data set over plain gRPC (much faster than one etcdctl per
// key): write, overwrite and delete keys, compact, and fill a member until
// etcd raises NOSPACE. Fragmentation = write, then delete or overwrite, then
// compact: the old revisions' pages become free pages that a defrag returns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace etcd_warden::testing {

// Puts `count` keys "<prefix><n>" with values of `value_bytes`; throws on a failure.
// With `seed`, each value is random bytes from it (incompressible, like
// Secrets); without, 'x' repeated.
void put_values(const std::string& endpoint, const std::string& prefix, std::size_t count,
                std::size_t value_bytes, std::optional<std::uint64_t> seed = std::nullopt);
// Deletes every key under `prefix`; returns how many went.
std::int64_t delete_prefix(const std::string& endpoint, const std::string& prefix);
// Compacts to the current revision and waits for the physical compaction.
std::int64_t compact_now(const std::string& endpoint);
// Writes `value_bytes` values to a few keys, round robin, until etcd answers
// "database space exceeded"; false if that did not happen within `max_puts`.
bool fill_until_nospace(const std::string& endpoint, std::size_t value_bytes, std::size_t max_puts);
// One Put; "" on success, else the error.
std::string try_put(const std::string& endpoint, const std::string& key, const std::string& value);
// Keys under `prefix` (count only).
std::int64_t count_prefix(const std::string& endpoint, const std::string& prefix);
// Value of one key ("" if absent).
std::string get_value(const std::string& endpoint, const std::string& key);

// Writes `live_keys` keys that stay, and `garbage_keys` keys that are then
// deleted, and compacts: a database with about live*bytes in use and
// garbage*bytes free, on every member.
void make_fragmented(const std::string& endpoint, std::size_t live_keys, std::size_t garbage_keys,
                     std::size_t value_bytes);

}  // namespace etcd_warden::testing
