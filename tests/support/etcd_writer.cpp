#include "support/etcd_writer.hpp"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cmath>

#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace etcd_warden::testing {

namespace {

std::string describe(const grpc::Status& s) {
  return std::to_string(static_cast<int>(s.error_code())) + " " + s.error_message();
}

// Nothing was written: the proposal was dropped or never reached a leader.
bool retryable(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE ||
         s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
         s.error_message().find("proposal dropped") != std::string::npos ||
         s.error_message().find("leader changed") != std::string::npos;
}

}  // namespace

std::size_t EndpointLoad::failures() const {
  return static_cast<std::size_t>(
      std::count_if(samples.begin(), samples.end(), [](const WriteSample& s) { return !s.ok; }));
}

std::size_t EndpointLoad::retried() const {
  return static_cast<std::size_t>(std::count_if(samples.begin(), samples.end(),
                                                [](const WriteSample& s) { return s.retried; }));
}

std::chrono::microseconds EndpointLoad::percentile(double p,
                                                   bool (*keep)(const WriteSample&)) const {
  std::vector<std::chrono::microseconds> v;
  for (const auto& s : samples) {
    if (keep == nullptr || keep(s)) v.push_back(s.latency);
  }
  if (v.empty()) return std::chrono::microseconds(0);
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

EtcdWriter::EtcdWriter(std::vector<std::string> endpoints, WriterOptions options)
    : options_(std::move(options)) {
  for (auto& e : endpoints) loads_.push_back({std::move(e), {}, {}});
  for (std::size_t i = 0; i < loads_.size(); ++i) threads_.emplace_back([this, i] { run(i); });
}

EtcdWriter::~EtcdWriter() {
  stop();
}

void EtcdWriter::stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void EtcdWriter::run(std::size_t index) {
  std::string target;
  {
    std::lock_guard lock(mu_);
    target = loads_[index].endpoint;
  }
  if (target.starts_with("http://")) target = target.substr(7);
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  auto kv = etcdserverpb::KV::NewStub(channel);
  const std::string value(options_.value_bytes, 'v');
  std::size_t n = 0;
  while (!stop_) {
    etcdserverpb::PutRequest request;
    request.set_key(options_.key_prefix + std::to_string(index) + "/" +
                    std::to_string(n++ % options_.keys));
    request.set_value(value);
    const auto wall = std::chrono::system_clock::now();
    const auto start = std::chrono::steady_clock::now();
    auto attempt = [&] {
      etcdserverpb::PutResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + options_.deadline);
      return kv->Put(&context, request, &response);
    };
    grpc::Status status = attempt();
    std::string first_error;
    bool retried = false;
    if (!status.ok() && options_.retry_once && retryable(status)) {
      first_error = describe(status);
      retried = true;
      // A transfer lasts milliseconds; an immediate retry could land in it again.
      std::this_thread::sleep_for(options_.retry_after);
      status = attempt();
    }
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - start);
    {
      std::lock_guard lock(mu_);
      auto& load = loads_[index];
      load.samples.push_back(
          {wall, took, status.ok(), retried,
           retried ? first_error : (status.ok() ? std::string() : describe(status))});
      if (retried && load.errors.size() < 5) load.errors.push_back("retried: " + first_error);
      if (!status.ok() && load.errors.size() < 5) load.errors.push_back(describe(status));
    }
    std::this_thread::sleep_for(options_.interval);
  }
}

std::size_t EtcdWriter::total_retried() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& l : loads_) n += l.retried();
  return n;
}

std::vector<EndpointLoad> EtcdWriter::results() const {
  std::lock_guard lock(mu_);
  return loads_;
}

std::size_t EtcdWriter::total_requests() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& l : loads_) n += l.samples.size();
  return n;
}

std::size_t EtcdWriter::total_failures() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& l : loads_) n += l.failures();
  return n;
}

std::string EtcdWriter::failure_summary() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& l : loads_) {
    for (const auto& e : l.errors) out += l.endpoint + ": " + e + "\n";
  }
  return out;
}

}  // namespace etcd_warden::testing
