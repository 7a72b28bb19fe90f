// The outcome of one etcd call: a value, or an error that names the endpoint
// and says what went wrong in words a person can act on.
#pragma once

#include <grpcpp/support/status.h>

#include <string>

#include "etcd_warden/util/result.hpp"

namespace etcd_warden::etcd {

struct Error {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  std::string endpoint;  // "http://127.0.0.1:2379"
  std::string message;   // "Status: deadline of 5s exceeded"
  std::string to_string() const { return endpoint.empty() ? message : endpoint + ": " + message; }
  // etcd's "rpc not supported for learner" (FAILED_PRECONDITION from its
  // v3rpc interceptor): everything but Status, serializable Range and the
  // Snapshot stream, asked of a learner.
  bool refused_by_learner() const {
    return message.find("not supported for learner") != std::string::npos;
  }
  // etcd's mvcc errors (OUT_OF_RANGE) for a revision below the compact
  // revision (ErrCompacted) or above what the member has applied (ErrFutureRev).
  bool compacted() const {
    return message.find("required revision has been compacted") != std::string::npos;
  }
  bool future_revision() const {
    return message.find("required revision is a future revision") != std::string::npos;
  }
};

template <class T>
using Result = util::Result<T, Error>;

}  // namespace etcd_warden::etcd
