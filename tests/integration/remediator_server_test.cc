// The remediator server as a client sees it, in process on port 0: health, reflection, auth,
// validation, UNIMPLEMENTED messages, and incidents through the real store and classifier.
#include "server/remediator/remediator_server.h"

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "remediator/v1/remediator.grpc.pb.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/grpc_probe.h"
#include "tests/testing/status_matchers.h"

namespace remediator {
namespace {

using ::remediator::testing::FakeClock;
using ::remediator::testing::IsOk;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kToken[] = "test-token-0123456789";

constexpr char kOomPod[] =
    R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"nginx-7d9c5b8f4-x2x9k",
"namespace":"app","ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"nginx-7d9c5b8f4",
"controller":true}]},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]},"status":{"phase":"Running",
"containerStatuses":[{"name":"nginx","ready":false,"restartCount":3,"state":{"waiting":{"reason":
"CrashLoopBackOff"}},"lastState":{"terminated":{"exitCode":137,"reason":"OOMKilled"}}}]}})";

class RemediatorServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("remediator_server_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "token") << kToken << "\n";
    RemediatorConfig config;
    config.server.listen = "127.0.0.1:0";
    config.state_dir = (dir_ / "state").string();
    config.auth_token_file = (dir_ / "token").string();
    auto server = RemediatorServer::Start(config, clock_);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    stub_ = v1::Remediator::NewStub(channel_);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Authorize(grpc::ClientContext& context) {
    context.AddMetadata("authorization", std::string("Bearer ") + kToken);
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  std::unique_ptr<RemediatorServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Remediator::Stub> stub_;
};

TEST_F(RemediatorServerTest, HealthIsServingForServerAndService) {
  EXPECT_EQ(testing::HealthCheck(*channel_).value_or("error"), "SERVING");
  EXPECT_EQ(testing::HealthCheck(*channel_, "remediator.v1.Remediator").value_or("error"),
            "SERVING");
}

TEST_F(RemediatorServerTest, ReflectionListsServiceHealthAndReflection) {
  auto services = testing::ListServices(*channel_);
  ASSERT_THAT(services, IsOk());
  EXPECT_THAT(*services, Contains("remediator.v1.Remediator"));
  EXPECT_THAT(*services, Contains("grpc.health.v1.Health"));
  EXPECT_THAT(*services, Contains("grpc.reflection.v1alpha.ServerReflection"));
}

TEST_F(RemediatorServerTest, EveryMethodRejectsMissingOrWrongToken) {
  const auto methods = testing::MethodsOf("remediator.v1.Remediator");
  ASSERT_THAT(methods, SizeIs(11));
  for (const std::string& method : methods) {
    grpc::Status missing = testing::RawCall(*channel_, method, "");
    EXPECT_EQ(missing.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method;
    EXPECT_THAT(missing.error_message(), HasSubstr("authorization")) << method;
    grpc::Status wrong =
        testing::RawCall(*channel_, method, "", {{"authorization", "Bearer not-the-token"}});
    EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method;
    EXPECT_THAT(wrong.error_message(), ::testing::Not(HasSubstr(kToken)));
  }
}

TEST_F(RemediatorServerTest, MalformedRequestsAreInvalidArgumentSayingWhat) {
  {
    grpc::ClientContext context;
    Authorize(context);
    v1::ReportErrorResponse response;
    grpc::Status status = stub_->ReportError(&context, v1::ReportErrorRequest(), &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("observations is empty"));
  }
  {
    grpc::ClientContext context;
    Authorize(context);
    v1::ReportErrorRequest request;
    request.add_observations()->set_pod_json("{not json");
    v1::ReportErrorResponse response;
    grpc::Status status = stub_->ReportError(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("observations[0]"));
  }
  {
    grpc::ClientContext context;
    Authorize(context);
    v1::ReportErrorRequest request;
    request.add_observations();
    v1::ReportErrorResponse response;
    grpc::Status status = stub_->ReportError(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("no payload"));
  }
  {
    grpc::ClientContext context;
    Authorize(context);
    v1::ListIncidentsRequest request;
    request.set_page_size(-3);
    v1::ListIncidentsResponse response;
    grpc::Status status = stub_->ListIncidents(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("page_size"));
  }
  {
    grpc::ClientContext context;
    Authorize(context);
    v1::PlaceCallRequest request;
    request.set_message("hello");
    request.set_number("06 12 34 56 78");
    telephony::v1::CallRecord response;
    grpc::Status status = stub_->PlaceCall(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("E.164"));
  }
}

TEST_F(RemediatorServerTest, ReportedFailureBecomesAnIncidentListedAndFetched) {
  v1::ReportErrorRequest request;
  for (int i = 0; i < 3; ++i) request.add_observations()->set_pod_json(kOomPod);
  v1::ReportErrorResponse response;
  {
    grpc::ClientContext context;
    Authorize(context);
    ASSERT_TRUE(stub_->ReportError(&context, request, &response).ok());
  }
  ASSERT_THAT(response.detections(), SizeIs(3));
  const v1::Detection& d = response.detections(0);
  EXPECT_EQ(d.error_class(), v1::ERROR_CLASS_OOM_KILLED);
  EXPECT_EQ(d.workload().namespace_(), "app");
  EXPECT_EQ(d.workload().kind(), "Deployment");
  EXPECT_EQ(d.workload().name(), "nginx");
  EXPECT_TRUE(d.new_incident());
  EXPECT_EQ(response.detections(2).incident_id(), d.incident_id());

  v1::Incident incident;
  {
    grpc::ClientContext context;
    Authorize(context);
    v1::GetIncidentRequest get;
    get.set_id(d.incident_id());
    ASSERT_TRUE(stub_->GetIncident(&context, get, &incident).ok());
  }
  EXPECT_EQ(incident.count(), 3);
  EXPECT_EQ(incident.state(), v1::INCIDENT_STATE_OPEN);
  {
    grpc::ClientContext context;
    Authorize(context);
    v1::ListIncidentsRequest list;
    list.set_namespace_("app");
    v1::ListIncidentsResponse listed;
    ASSERT_TRUE(stub_->ListIncidents(&context, list, &listed).ok());
    ASSERT_THAT(listed.incidents(), SizeIs(1));
    EXPECT_EQ(listed.incidents(0).id(), d.incident_id());
  }
  {
    grpc::ClientContext context;
    Authorize(context);
    v1::GetIncidentRequest get;
    get.set_id("inc-does-not-exist");
    grpc::Status status = stub_->GetIncident(&context, get, &incident);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  }
}

TEST_F(RemediatorServerTest, StreamedBatchesAreAcknowledgedWithCounts) {
  grpc::ClientContext context;
  Authorize(context);
  v1::ReportErrorStreamResponse response;
  auto writer = stub_->ReportErrorStream(&context, &response);
  for (int batch = 0; batch < 4; ++batch) {
    v1::ReportErrorRequest request;
    request.add_observations()->set_pod_json(kOomPod);
    ASSERT_TRUE(writer->Write(request));
  }
  writer->WritesDone();
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(response.batches(), 4);
  EXPECT_EQ(response.observations(), 4);
  EXPECT_EQ(response.detections(), 4);
  EXPECT_THAT(response.incident_ids(), SizeIs(1));
}

// A batch the server cannot parse used to end the stream quietly with OK (the typed reader
// reports it like the end of the stream). It is INVALID_ARGUMENT naming the batch.
TEST_F(RemediatorServerTest, AStreamedBatchWithInvalidUtf8IsInvalidArgumentNamingTheBatch) {
  grpc::ClientContext context;
  Authorize(context);
  v1::ReportErrorStreamResponse response;
  auto writer = stub_->ReportErrorStream(&context, &response);
  v1::ReportErrorRequest good;
  good.add_observations()->set_pod_json(kOomPod);
  v1::ReportErrorRequest bad;
  v1::CriLogLines* cri = bad.add_observations()->mutable_cri_log();
  cri->set_log_file("/var/log/containers/caf\xe9_shop_app-0a.log");  // Latin-1, not UTF-8
  cri->add_lines("2026-11-26T08:00:00Z stderr F panic: boom");
  ASSERT_TRUE(writer->Write(good));
  writer->Write(bad);  // may already see the server's answer
  writer->Write(good);
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("batch 1: "));
  EXPECT_THAT(status.error_message(), HasSubstr("not valid UTF-8"));
}

TEST_F(RemediatorServerTest, AStreamedBatchOfGarbageBytesIsInvalidArgumentNamingTheBatch) {
  // The typed stub cannot send bytes that are not a ReportErrorRequest; a raw writer can.
  grpc::ClientContext context;
  Authorize(context);
  grpc::ByteBuffer response;
  grpc::internal::RpcMethod method("/remediator.v1.Remediator/ReportErrorStream",
                                   grpc::internal::RpcMethod::CLIENT_STREAMING);
  std::unique_ptr<grpc::ClientWriter<grpc::ByteBuffer>> writer(
      grpc::internal::ClientWriterFactory<grpc::ByteBuffer>::Create(channel_.get(), method,
                                                                    &context, &response));
  auto bytes = [](const std::string& data) {
    grpc::Slice slice(data);
    return grpc::ByteBuffer(&slice, 1);
  };
  v1::ReportErrorRequest good;
  good.add_observations()->set_pod_json(kOomPod);
  ASSERT_TRUE(writer->Write(bytes(good.SerializeAsString())));
  ASSERT_TRUE(writer->Write(bytes(good.SerializeAsString())));
  writer->Write(bytes(std::string("\xff\xff\xff\xff garbage", 12)));
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("batch 2: "));
  EXPECT_THAT(status.error_message(), HasSubstr("malformed protobuf"));
}

TEST_F(RemediatorServerTest, UnconfiguredCapabilitiesSayWhichSettingIsMissing) {
  v1::ReportErrorRequest request;
  request.add_observations()->set_pod_json(kOomPod);
  v1::ReportErrorResponse reported;
  {
    grpc::ClientContext context;
    Authorize(context);
    ASSERT_TRUE(stub_->ReportError(&context, request, &reported).ok());
  }
  {
    grpc::ClientContext context;
    Authorize(context);
    v1::AttemptFixRequest fix;
    fix.set_incident_id(reported.detections(0).incident_id());
    v1::FixAttempt attempt;
    grpc::Status status = stub_->AttemptFix(&context, fix, &attempt);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(status.error_message(), HasSubstr("--kubeconfig"));
  }
  {
    grpc::ClientContext context;
    Authorize(context);
    v1::OpenPullRequestRequest open;
    open.set_incident_id(reported.detections(0).incident_id());
    v1::PullRequest pr;
    grpc::Status status = stub_->OpenPullRequest(&context, open, &pr);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(status.error_message(), HasSubstr("--gitops-repo"));
  }
}

TEST_F(RemediatorServerTest, ServesTlsWithTheConfiguredCertificate) {
  const std::string cert = (dir_ / "tls.crt").string(), key = (dir_ / "tls.key").string();
  const std::string command =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -addext "
      "subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << "openssl could not make a certificate";
  RemediatorConfig config;
  config.server.listen = "127.0.0.1:0";
  config.server.tls_cert_file = cert;
  config.server.tls_key_file = key;
  config.state_dir = (dir_ / "tls-state").string();
  auto server = RemediatorServer::Start(config, clock_);
  ASSERT_THAT(server, IsOk());
  std::ifstream in(cert);
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = pem;
  auto secure = grpc::CreateChannel((*server)->address(), grpc::SslCredentials(ssl));
  EXPECT_EQ(testing::HealthCheck(*secure).value_or("error"), "SERVING");
  auto stub = v1::Remediator::NewStub(secure);
  grpc::ClientContext context;
  v1::ListIncidentsResponse listed;
  EXPECT_TRUE(stub->ListIncidents(&context, v1::ListIncidentsRequest(), &listed).ok());
  // A plaintext client cannot talk to it.
  auto plain = grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials());
  EXPECT_FALSE(testing::HealthCheck(*plain).ok());
  // A half-configured TLS setup is refused with a clear error.
  config.server.tls_key_file.clear();
  EXPECT_THAT(RemediatorServer::Start(config, clock_),
              ::remediator::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                              HasSubstr("certificate file and a key file")));
}

TEST_F(RemediatorServerTest, IncidentsSurviveARestart) {
  v1::ReportErrorRequest request;
  request.add_observations()->set_pod_json(kOomPod);
  v1::ReportErrorResponse reported;
  {
    grpc::ClientContext context;
    Authorize(context);
    ASSERT_TRUE(stub_->ReportError(&context, request, &reported).ok());
  }
  server_.reset();
  RemediatorConfig config;
  config.server.listen = "127.0.0.1:0";
  config.state_dir = (dir_ / "state").string();
  auto restarted = RemediatorServer::Start(config, clock_);
  ASSERT_THAT(restarted, IsOk());
  auto channel = grpc::CreateChannel((*restarted)->address(), grpc::InsecureChannelCredentials());
  auto stub = v1::Remediator::NewStub(channel);
  grpc::ClientContext context;
  v1::GetIncidentRequest get;
  get.set_id(reported.detections(0).incident_id());
  v1::Incident incident;
  ASSERT_TRUE(stub->GetIncident(&context, get, &incident).ok());
  EXPECT_EQ(incident.workload().name(), "nginx");
}

}  // namespace
}  // namespace remediator
