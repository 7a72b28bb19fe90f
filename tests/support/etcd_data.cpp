#include "support/etcd_data.hpp"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <random>
#include <stdexcept>

#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace etcd_warden::testing {

namespace {

using namespace std::chrono_literals;

std::shared_ptr<grpc::Channel> channel(const std::string& endpoint) {
  std::string target = endpoint;
  if (target.starts_with("http://")) target = target.substr(7);
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);
  args.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

void deadline(grpc::ClientContext& c, std::chrono::seconds d = 30s) {
  c.set_deadline(std::chrono::system_clock::now() + d);
}

std::string prefix_end(std::string prefix) {
  // The smallest key greater than every key with this prefix.
  while (!prefix.empty()) {
    if (static_cast<unsigned char>(prefix.back()) < 0xff) {
      prefix.back() = static_cast<char>(prefix.back() + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');
}

}  // namespace

void put_values(const std::string& endpoint, const std::string& prefix, std::size_t count,
                std::size_t value_bytes, std::optional<std::uint64_t> seed) {
  auto kv = etcdserverpb::KV::NewStub(channel(endpoint));
  std::string value(value_bytes, 'x');
  std::mt19937_64 random(seed.value_or(0));
  for (std::size_t i = 0; i < count; ++i) {
    if (seed) {
      for (auto& c : value) c = static_cast<char>(random());
    }
    etcdserverpb::PutRequest r;
    r.set_key(prefix + std::to_string(i));
    r.set_value(value);
    etcdserverpb::PutResponse resp;
    grpc::ClientContext c;
    deadline(c);
    const auto s = kv->Put(&c, r, &resp);
    if (!s.ok()) throw std::runtime_error("put " + r.key() + ": " + s.error_message());
  }
}

std::int64_t delete_prefix(const std::string& endpoint, const std::string& prefix) {
  auto kv = etcdserverpb::KV::NewStub(channel(endpoint));
  etcdserverpb::TxnRequest txn;
  auto* del = txn.add_success()->mutable_request_delete_range();
  del->set_key(prefix);
  del->set_range_end(prefix_end(prefix));
  etcdserverpb::TxnResponse resp;
  grpc::ClientContext c;
  deadline(c);
  const auto s = kv->Txn(&c, txn, &resp);
  if (!s.ok()) throw std::runtime_error("delete " + prefix + ": " + s.error_message());
  return resp.responses_size() > 0 ? resp.responses(0).response_delete_range().deleted() : 0;
}

std::int64_t compact_now(const std::string& endpoint) {
  auto ch = channel(endpoint);
  auto kv = etcdserverpb::KV::NewStub(ch);
  auto maintenance = etcdserverpb::Maintenance::NewStub(ch);
  etcdserverpb::StatusResponse st;
  {
    grpc::ClientContext c;
    deadline(c);
    const auto s = maintenance->Status(&c, etcdserverpb::StatusRequest{}, &st);
    if (!s.ok()) throw std::runtime_error("status: " + s.error_message());
  }
  etcdserverpb::CompactionRequest r;
  r.set_revision(st.header().revision());
  r.set_physical(true);
  etcdserverpb::CompactionResponse resp;
  grpc::ClientContext c;
  deadline(c, 120s);
  const auto s = kv->Compact(&c, r, &resp);
  if (!s.ok() && s.error_message().find("compacted") == std::string::npos) {
    throw std::runtime_error("compact: " + s.error_message());
  }
  return st.header().revision();
}

bool fill_until_nospace(const std::string& endpoint, std::size_t value_bytes,
                        std::size_t max_puts) {
  auto kv = etcdserverpb::KV::NewStub(channel(endpoint));
  const std::string value(value_bytes, 'n');
  for (std::size_t i = 0; i < max_puts; ++i) {
    etcdserverpb::PutRequest r;
    r.set_key("/fill/" + std::to_string(i % 8));
    r.set_value(value);
    etcdserverpb::PutResponse resp;
    grpc::ClientContext c;
    deadline(c);
    const auto s = kv->Put(&c, r, &resp);
    if (!s.ok()) {
      if (s.error_message().find("database space exceeded") != std::string::npos) return true;
      throw std::runtime_error("fill: " + s.error_message());
    }
  }
  return false;
}

std::string try_put(const std::string& endpoint, const std::string& key, const std::string& value) {
  auto kv = etcdserverpb::KV::NewStub(channel(endpoint));
  etcdserverpb::PutRequest r;
  r.set_key(key);
  r.set_value(value);
  etcdserverpb::PutResponse resp;
  grpc::ClientContext c;
  deadline(c, 10s);
  const auto s = kv->Put(&c, r, &resp);
  return s.ok() ? std::string() : (s.error_message().empty() ? "error" : s.error_message());
}

std::int64_t count_prefix(const std::string& endpoint, const std::string& prefix) {
  auto kv = etcdserverpb::KV::NewStub(channel(endpoint));
  etcdserverpb::RangeRequest r;
  r.set_key(prefix);
  r.set_range_end(prefix_end(prefix));
  r.set_count_only(true);
  etcdserverpb::RangeResponse resp;
  grpc::ClientContext c;
  deadline(c, 10s);
  const auto s = kv->Range(&c, r, &resp);
  return s.ok() ? resp.count() : -1;
}

std::string get_value(const std::string& endpoint, const std::string& key) {
  auto kv = etcdserverpb::KV::NewStub(channel(endpoint));
  etcdserverpb::RangeRequest r;
  r.set_key(key);
  etcdserverpb::RangeResponse resp;
  grpc::ClientContext c;
  deadline(c, 10s);
  const auto s = kv->Range(&c, r, &resp);
  return s.ok() && resp.kvs_size() > 0 ? resp.kvs(0).value() : std::string();
}

void make_fragmented(const std::string& endpoint, std::size_t live_keys, std::size_t garbage_keys,
                     std::size_t value_bytes) {
  if (live_keys > 0) put_values(endpoint, "/data/live/", live_keys, value_bytes);
  put_values(endpoint, "/data/garbage/", garbage_keys, value_bytes);
  delete_prefix(endpoint, "/data/garbage/");
  compact_now(endpoint);
}

}  // namespace etcd_warden::testing
