#include "etcd_warden/objstore/s3_protocol.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <cmath>

#include "etcd_warden/util/url.hpp"

namespace etcd_warden::objstore {
namespace {

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// S3 answers with namespaced XML; child() matches names exactly, and the
// namespace is declared once at the root, so plain names work.
std::string text_of(const pugi::xml_node& node, const char* name) {
  return node.child(name).text().as_string();
}

util::Result<pugi::xml_document> parse_xml(std::string_view xml, const char* root,
                                           const char* what) {
  pugi::xml_document doc;
  const auto parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed) return util::fail(std::string(what) + ": not XML (" + parsed.description() + ")");
  if (!doc.child(root)) {
    if (doc.child("Error")) {
      const auto e = doc.child("Error");
      return util::fail(std::string(what) + ": " + text_of(e, "Code") + ": " +
                        text_of(e, "Message"));
    }
    return util::fail(std::string(what) + ": expected <" + root + ">, got <" +
                      doc.first_child().name() + ">");
  }
  return doc;
}

}  // namespace

util::Result<S3Endpoint> resolve_endpoint(const config::S3Location& location) {
  const std::string given = location.endpoint.empty()
                                ? "https://s3." + location.region + ".amazonaws.com"
                                : location.endpoint;
  const auto url = util::parse_http_url(given);
  if (!url) return util::fail("endpoint " + util::without_userinfo(given) + ": not an http(s) URL");
  const bool aws = url->host.ends_with(".amazonaws.com");
  bool virtual_host = false;
  switch (location.path_style) {
    case config::PathStyle::path:
      virtual_host = false;
      break;
    case config::PathStyle::virtual_host:
      virtual_host = true;
      break;
    case config::PathStyle::automatic:
      virtual_host = aws && location.bucket.find('.') == std::string::npos;
      break;
  }
  std::string authority =
      url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host;
  if (!url->port.empty()) authority += ":" + url->port;
  S3Endpoint e;
  e.bucket = location.bucket;
  e.region = location.region;
  e.tls = url->tls();
  e.base = url->scheme + "://" +
           (virtual_host ? location.bucket + "." + authority : authority + "/" + location.bucket);
  return e;
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (unreserved(c) || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string canonical_query(QueryParams params) {
  for (auto& [k, v] : params) {
    k = uri_encode(k, false);
    v = uri_encode(v, false);
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

std::string object_url(const S3Endpoint& endpoint, std::string_view key, const QueryParams& query) {
  std::string url = endpoint.base + "/" + uri_encode(key, true);
  if (!query.empty()) url += "?" + canonical_query(query);
  return url;
}

std::string bucket_url(const S3Endpoint& endpoint, const QueryParams& query) {
  std::string url = endpoint.base + "/";
  if (!query.empty()) url += "?" + canonical_query(query);
  return url;
}

ErrorBody parse_error_body(std::string_view body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return {};
  const auto e = doc.child("Error");
  return {text_of(e, "Code"), text_of(e, "Message")};
}

bool transient_status(long http_status, std::string_view code) {
  if (http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504 ||
      http_status == 429) {
    return true;
  }
  return code == "RequestTimeout" || code == "SlowDown" || code == "InternalError" ||
         code == "ServiceUnavailable";
}

std::chrono::milliseconds backoff(int attempt, double jitter, std::chrono::milliseconds base,
                                  std::chrono::milliseconds cap) {
  const int shift = std::clamp(attempt - 1, 0, 20);
  const auto ceiling = std::min<std::int64_t>(cap.count(), base.count() << shift);
  const double j = std::clamp(jitter, 0.0, 1.0);
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(std::llround(static_cast<double>(ceiling) * j)));
}

util::Result<ObjectPage> parse_list_objects(std::string_view xml) {
  auto doc = parse_xml(xml, "ListBucketResult", "ListObjectsV2");
  if (!doc) return util::fail(doc.error());
  const auto root = doc->child("ListBucketResult");
  ObjectPage page;
  for (const auto c : root.children("Contents")) {
    page.objects.push_back(
        {text_of(c, "Key"), c.child("Size").text().as_ullong(), unquote_etag(text_of(c, "ETag"))});
  }
  if (std::string_view(root.child("IsTruncated").text().as_string()) == "true") {
    page.next_token = text_of(root, "NextContinuationToken");
    if (page.next_token.empty()) {
      return util::fail("ListObjectsV2: truncated, but no NextContinuationToken");
    }
  }
  return page;
}

util::Result<UploadPage> parse_list_multipart(std::string_view xml) {
  auto doc = parse_xml(xml, "ListMultipartUploadsResult", "ListMultipartUploads");
  if (!doc) return util::fail(doc.error());
  const auto root = doc->child("ListMultipartUploadsResult");
  UploadPage page;
  for (const auto u : root.children("Upload")) {
    page.uploads.push_back({text_of(u, "Key"), text_of(u, "UploadId"), text_of(u, "Initiated")});
  }
  if (std::string_view(root.child("IsTruncated").text().as_string()) == "true") {
    page.next_key_marker = text_of(root, "NextKeyMarker");
    page.next_upload_id_marker = text_of(root, "NextUploadIdMarker");
    if (page.next_key_marker.empty()) {
      return util::fail("ListMultipartUploads: truncated, but no NextKeyMarker");
    }
  }
  return page;
}

util::Result<std::string> parse_upload_id(std::string_view xml) {
  auto doc = parse_xml(xml, "InitiateMultipartUploadResult", "CreateMultipartUpload");
  if (!doc) return util::fail(doc.error());
  auto id = text_of(doc->child("InitiateMultipartUploadResult"), "UploadId");
  if (id.empty()) return util::fail("CreateMultipartUpload: no UploadId in the answer");
  return id;
}

std::string complete_multipart_body(std::span<const PartTag> parts) {
  std::string body = "<CompleteMultipartUpload>";
  for (const auto& p : parts) {
    body += "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><ETag>";
    for (const char c : p.etag) {  // quotes as entities: the ETag is quoted
      if (c == '"') {
        body += "&quot;";
      } else if (c == '&') {
        body += "&amp;";
      } else if (c == '<') {
        body += "&lt;";
      } else {
        body += c;
      }
    }
    body += "</ETag></Part>";
  }
  return body + "</CompleteMultipartUpload>";
}

util::Result<std::string> parse_complete(std::string_view xml) {
  auto doc = parse_xml(xml, "CompleteMultipartUploadResult", "CompleteMultipartUpload");
  if (!doc) return util::fail(doc.error());
  return unquote_etag(text_of(doc->child("CompleteMultipartUploadResult"), "ETag"));
}

std::string unquote_etag(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

}  // namespace etcd_warden::objstore
