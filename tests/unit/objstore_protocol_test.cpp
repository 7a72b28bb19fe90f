// The pure half of the S3 client: URLs, SigV4's encoding, S3's XML answers,
// which failures are retried, and the backoff between tries.
#include <catch2/catch.hpp>

#include <array>
#include <string>

#include "etcd_warden/objstore/s3_client.hpp"
#include "etcd_warden/objstore/s3_protocol.hpp"

using namespace etcd_warden::objstore;
using etcd_warden::config::PathStyle;
using etcd_warden::config::S3Location;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

S3Location location(std::string endpoint, std::string bucket,
                    PathStyle style = PathStyle::automatic) {
  S3Location l;
  l.endpoint = std::move(endpoint);
  l.bucket = std::move(bucket);
  l.path_style = style;
  return l;
}

}  // namespace

TEST_CASE("s3: path-style everywhere but AWS, virtual-host on AWS for dotless buckets",
          "[objstore]") {
  auto e = resolve_endpoint(location("http://127.0.0.1:9000", "backups"));
  REQUIRE(e.ok());
  CHECK(e->base == "http://127.0.0.1:9000/backups");
  CHECK_FALSE(e->tls);

  S3Location aws = location("", "backups");
  aws.region = "eu-west-1";
  e = resolve_endpoint(aws);
  REQUIRE(e.ok());
  CHECK(e->base == "https://backups.s3.eu-west-1.amazonaws.com");
  CHECK(e->region == "eu-west-1");
  CHECK(e->tls);

  // A dotted bucket would not match AWS's wildcard certificate.
  e = resolve_endpoint(location("https://s3.us-east-1.amazonaws.com", "my.backups"));
  REQUIRE(e.ok());
  CHECK(e->base == "https://s3.us-east-1.amazonaws.com/my.backups");

  e = resolve_endpoint(location("https://minio.local:9000", "b", PathStyle::virtual_host));
  REQUIRE(e.ok());
  CHECK(e->base == "https://b.minio.local:9000");
  e = resolve_endpoint(location("https://backups.s3.amazonaws.com", "b", PathStyle::path));
  REQUIRE(e.ok());
  CHECK(e->base == "https://backups.s3.amazonaws.com/b");
  e = resolve_endpoint(location("http://[::1]:9000", "b"));
  REQUIRE(e.ok());
  CHECK(e->base == "http://[::1]:9000/b");
  CHECK_FALSE(resolve_endpoint(location("ftp://x", "b")).ok());
}

TEST_CASE("s3: keys and queries encoded as SigV4 signs them", "[objstore]") {
  CHECK(uri_encode("etcd/a b+c~d", true) == "etcd/a%20b%2Bc~d");
  CHECK(uri_encode("etcd/a", false) == "etcd%2Fa");
  CHECK(uri_encode("\xc3\xa9", false) == "%C3%A9");
  CHECK(canonical_query({{"uploadId", "x/y"}, {"partNumber", "2"}}) ==
        "partNumber=2&uploadId=x%2Fy");
  CHECK(canonical_query({{"uploads", ""}, {"prefix", "etcd/"}}) == "prefix=etcd%2F&uploads=");
  CHECK(canonical_query({}).empty());
  const S3Endpoint e{"http://h:1/b", "b", "us-east-1", false};
  CHECK(object_url(e, "etcd/x.db", {{"uploads", ""}}) == "http://h:1/b/etcd/x.db?uploads=");
  CHECK(bucket_url(e, {{"list-type", "2"}}) == "http://h:1/b/?list-type=2");
}

TEST_CASE("s3: error bodies, and which failures are worth another try", "[objstore]") {
  const auto e = parse_error_body(
      "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does "
      "not exist</Message></Error>");
  CHECK(e.code == "NoSuchBucket");
  CHECK(e.message == "The specified bucket does not exist");
  CHECK(parse_error_body("not xml").code.empty());
  for (long s : {500L, 502L, 503L, 504L, 429L}) CHECK(transient_status(s, ""));
  for (long s : {400L, 403L, 404L, 405L, 501L}) CHECK_FALSE(transient_status(s, ""));
  CHECK(transient_status(400, "RequestTimeout"));
  CHECK(transient_status(503, "SlowDown"));
  CHECK_FALSE(transient_status(403, "SignatureDoesNotMatch"));
}

TEST_CASE("s3: full-jitter backoff doubles up to its cap", "[objstore]") {
  CHECK(backoff(1, 1.0) == 250ms);
  CHECK(backoff(2, 1.0) == 500ms);
  CHECK(backoff(4, 1.0) == 2000ms);
  CHECK(backoff(10, 1.0) == 8000ms);
  CHECK(backoff(60, 1.0) == 8000ms);  // no overflow
  CHECK(backoff(3, 0.0) == 0ms);
  CHECK(backoff(3, 0.5) == 500ms);
  CHECK(backoff(1, 7.0) == 250ms);  // jitter clamped to [0, 1]
}

TEST_CASE("s3: listings, upload ids and completion", "[objstore]") {
  const auto page = parse_list_objects(
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<IsTruncated>true</IsTruncated><NextContinuationToken>tok</NextContinuationToken>"
      "<Contents><Key>etcd/a.db</Key><Size>42</Size><ETag>&quot;abc&quot;</ETag></Contents>"
      "<Contents><Key>etcd/a.db.json</Key><Size>7</Size><ETag>\"def\"</ETag></Contents>"
      "</ListBucketResult>");
  REQUIRE(page.ok());
  REQUIRE(page->objects.size() == 2);
  CHECK(page->objects[0].key == "etcd/a.db");
  CHECK(page->objects[0].size == 42);
  CHECK(page->objects[0].etag == "abc");
  CHECK(page->next_token == "tok");
  CHECK_FALSE(parse_list_objects("<ListBucketResult><IsTruncated>true</IsTruncated>"
                                 "</ListBucketResult>")
                  .ok());
  const auto denied =
      parse_list_objects("<Error><Code>AccessDenied</Code><Message>no</Message></Error>");
  REQUIRE_FALSE(denied.ok());
  CHECK_THAT(denied.error(), Contains("AccessDenied"));

  const auto uploads = parse_list_multipart(
      "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated><Upload><Key>etcd/x</Key>"
      "<UploadId>u1</UploadId><Initiated>2026-12-01T10:00:00.000Z</Initiated></Upload>"
      "</ListMultipartUploadsResult>");
  REQUIRE(uploads.ok());
  REQUIRE(uploads->uploads.size() == 1);
  CHECK(uploads->uploads[0].upload_id == "u1");
  CHECK(uploads->uploads[0].initiated == "2026-12-01T10:00:00.000Z");
  CHECK(uploads->next_key_marker.empty());

  const auto id = parse_upload_id(
      "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2Fk</UploadId>"
      "</InitiateMultipartUploadResult>");
  REQUIRE(id.ok());
  CHECK(*id == "VXBsb2Fk");

  const std::array<PartTag, 2> parts{{{1, "\"a1\""}, {2, "\"b2\""}}};
  CHECK(complete_multipart_body(parts) ==
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;a1&quot;</ETag>"
        "</Part><Part><PartNumber>2</PartNumber><ETag>&quot;b2&quot;</ETag></Part>"
        "</CompleteMultipartUpload>");
  const auto done = parse_complete(
      "<CompleteMultipartUploadResult><ETag>\"ff-2\"</ETag></CompleteMultipartUploadResult>");
  REQUIRE(done.ok());
  CHECK(*done == "ff-2");
  // S3 may answer 200 and put the failure in the body.
  CHECK_FALSE(parse_complete("<Error><Code>InternalError</Code><Message>x</Message></Error>").ok());
}

TEST_CASE("s3: the payload digests S3's headers carry", "[objstore]") {
  const std::string abc = "abc";
  const auto bytes = std::as_bytes(std::span(abc));
  CHECK(sha256_hex(bytes) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(md5_base64(bytes) == "kAFQmDzST7DWlj99KOF/cg==");
  CHECK(md5_base64({}) == "1B2M2Y8AsgTpgAmY7PhCfg==");
}
