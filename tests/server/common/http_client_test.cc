#include "server/common/http_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "tests/testing/status_matchers.h"

namespace remediator {
namespace {

using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_header("X-Seen-Auth", req.get_header_value("Authorization"));
      res.set_content(req.body, "text/plain");
      res.status = 201;
    });
    server_.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      res.set_content("late", "text/plain");
    });
    server_.set_keep_alive_timeout(0);  // stop() must not wait for idle keep-alive sockets
    port_ = server_.bind_to_any_port("127.0.0.1");
    // The socket listens once bound; requests queue until the accept loop runs.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(HttpClientTest, SendsMethodHeadersAndBodyAndReadsTheResponse) {
  auto client = NewCurlHttpClient();
  HttpRequest request;
  request.method = "POST";
  request.url = Url("/echo");
  request.headers = {{"Authorization", "Bearer abc"}, {"Content-Type", "application/json"}};
  request.body = R"({"x":1})";
  auto response = client->Send(request);
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, R"({"x":1})");
  EXPECT_EQ(response->Header("x-seen-auth"), "Bearer abc");
  // A second call on the same thread reuses the handle and still works.
  auto again = client->Send(request);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->status, 201);
}

TEST_F(HttpClientTest, NonSuccessStatusIsAResponseNotAnError) {
  auto client = NewCurlHttpClient();
  HttpRequest request;
  request.url = Url("/missing");
  auto response = client->Send(request);
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->status, 404);
}

TEST_F(HttpClientTest, TimeoutAndRefusedConnectionAreTransportErrors) {
  auto client = NewCurlHttpClient();
  HttpRequest slow;
  slow.url = Url("/slow");
  slow.timeout = absl::Milliseconds(100);
  EXPECT_THAT(client->Send(slow), StatusIs(absl::StatusCode::kDeadlineExceeded));
  HttpRequest refused;
  refused.url = "http://127.0.0.1:1/";
  EXPECT_THAT(client->Send(refused), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(UrlEncodeTest, EncodesReservedCharacters) {
  EXPECT_EQ(UrlEncode("platform/gitops repo"), "platform%2Fgitops%20repo");
  EXPECT_EQ(UrlEncode("a-b_c.d~e"), "a-b_c.d~e");
}

}  // namespace
}  // namespace remediator
