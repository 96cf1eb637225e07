#include "tests/testing/postgres_server.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/status_macros.h"
#include "server/remediator/adapters/postgres/pg_connection.h"

namespace remediator::testing {
namespace {

// The newest /usr/lib/postgresql/<version>/bin holding initdb, or $REMEDIATOR_PG_BIN.
std::string FindBinDir() {
  if (const char* env = std::getenv("REMEDIATOR_PG_BIN"); env != nullptr && *env != '\0') {
    return env;
  }
  std::string best;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string bin = (entry.path() / "bin").string();
    if (std::filesystem::exists(bin + "/initdb") && bin > best) best = bin;
  }
  return best;
}

// Where servers live: /dev/shm (tmpfs) when there is one, because copying and writing a data
// directory on a CI machine's disk costs seconds per server; the temporary directory otherwise.
std::filesystem::path ScratchRoot() {
  if (std::filesystem::is_directory("/dev/shm") && ::access("/dev/shm", W_OK) == 0) {
    return "/dev/shm";
  }
  return std::filesystem::temp_directory_path();
}

std::string LogTail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string log = text.str();
  return log.size() > 2000 ? log.substr(log.size() - 2000) : log;
}

// Forks and execs argv[0] as uid/gid (when running as root) with stdout and stderr appended to
// `log`. With `die_with_parent`, the child gets SIGQUIT (PostgreSQL's immediate shutdown) when
// the calling thread exits. Everything the child does between fork and exec is
// async-signal-safe.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& args, const std::string& log, uid_t uid,
                            gid_t gid, bool die_with_parent) {
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const bool switch_user = ::geteuid() == 0;
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    if (switch_user && (::setgid(gid) != 0 || ::setuid(uid) != 0)) ::_exit(126);
    if (die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGQUIT);
      if (::getppid() != parent) ::_exit(1);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start(
    const PostgresServerOptions& options) {
  const std::string bin = FindBinDir();
  if (bin.empty()) {
    return absl::FailedPreconditionError(
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): install Debian's "
        "`postgresql` package (scripts/install-deps.sh does)");
  }
  const std::filesystem::path root =
      options.root.empty() ? ScratchRoot() : std::filesystem::path(options.root);
  std::string pattern = (root / "remediator-pg.XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  }
  auto server = std::unique_ptr<PostgresServer>(new PostgresServer(pattern, bin));
  if (::geteuid() == 0) {
    // initdb refuses root: the data directory belongs to an unprivileged user.
    const passwd* user = ::getpwnam("postgres");
    if (user == nullptr) user = ::getpwnam("nobody");
    if (user == nullptr) return absl::FailedPreconditionError("no postgres or nobody user");
    server->uid_ = user->pw_uid;
    server->gid_ = user->pw_gid;
    if (::chown(server->dir_.c_str(), server->uid_, server->gid_) != 0) {
      return absl::InternalError(absl::StrCat("chown ", server->dir_, ": ", std::strerror(errno)));
    }
  }
  ::chmod(server->dir_.c_str(), 0755);
  RETURN_IF_ERROR(server->InitDb());
  RETURN_IF_ERROR(server->Launch(options));
  RETURN_IF_ERROR(server->WaitReady());
  return server;
}

absl::Status PostgresServer::InitDb() {
  // initdb costs over a second of CPU and gives the same cluster every time, so it runs once per
  // PostgreSQL installation and user into a template that each server copies (under a file
  // lock, so parallel test processes build it once).
  std::string name = bin_;
  std::replace(name.begin(), name.end(), '/', '_');
  const std::string templ =
      (ScratchRoot() / absl::StrCat("remediator-pg-template", name, "-", uid_)).string();
  const int lock = ::open((templ + ".lock").c_str(), O_RDWR | O_CREAT, 0644);
  if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot lock ", templ, ".lock: ", std::strerror(errno)));
  }
  absl::Status status = absl::OkStatus();
  if (!std::filesystem::exists(templ + "/PG_VERSION")) {
    const std::string building = templ + ".building";
    std::error_code ec;
    std::filesystem::remove_all(building, ec);
    const std::string log = dir_ + "/initdb.log";
    status = Run({bin_ + "/initdb", "-D", building, "-U", "remediator", "--auth=trust", "-E",
                  "UTF8", "--locale=C", "--no-sync"},
                 log, "initdb");
    if (status.ok()) std::filesystem::rename(building, templ, ec);
    if (status.ok() && ec) status = absl::InternalError(absl::StrCat("rename: ", ec.message()));
  }
  ::close(lock);  // releases the lock
  RETURN_IF_ERROR(status);
  return Run({"/bin/cp", "-a", templ, dir_ + "/data"}, dir_ + "/initdb.log",
             "copying the template");
}

absl::Status PostgresServer::Run(const std::vector<std::string>& args, const std::string& log,
                                 const std::string& what) {
  ASSIGN_OR_RETURN(pid_t pid, Spawn(args, log, uid_, gid_, /*die_with_parent=*/false));
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat(what, " failed:\n", LogTail(log)));
  }
  return absl::OkStatus();
}

absl::Status PostgresServer::Launch(const PostgresServerOptions& options) {
  ASSIGN_OR_RETURN(
      pid_, Spawn({bin_ + "/postgres", "-D", dir_ + "/data", "-k", dir_, "-c", "listen_addresses=",
                   "-c", absl::StrCat("fsync=", options.fsync ? "on" : "off"), "-c",
                   absl::StrCat("synchronous_commit=", options.synchronous_commit ? "on" : "off"),
                   "-c", absl::StrCat("full_page_writes=", options.fsync ? "on" : "off"), "-c",
                   "max_connections=200", "-c", "shared_buffers=64MB"},
                  dir_ + "/postgres.log", uid_, gid_, /*die_with_parent=*/true));
  return absl::OkStatus();
}

absl::Status PostgresServer::WaitReady() {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (true) {
    if (pg::Connection::Connect(Url("postgres")).ok()) return absl::OkStatus();
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(
          absl::StrCat("postgres exited at startup:\n", LogTail(dir_ + "/postgres.log")));
    }
    if (absl::Now() > deadline) {
      return absl::InternalError(
          absl::StrCat("postgres not ready after 60 s:\n", LogTail(dir_ + "/postgres.log")));
    }
    absl::SleepFor(absl::Milliseconds(20));  // polling the server's state, with a deadline
  }
}

PostgresServer::~PostgresServer() {
  if (pid_ > 0) {
    // SIGINT is PostgreSQL's fast shutdown; SIGKILL if it has not exited after 10 s.
    ::kill(pid_, SIGINT);
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (absl::Now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string PostgresServer::Url(const std::string& name) const {
  return absl::StrCat("postgresql:///", name, "?host=", dir_, "&user=remediator");
}

absl::StatusOr<std::string> PostgresServer::CreateDatabase() {
  std::string name;
  {
    absl::MutexLock lock(&mu_);
    name = absl::StrCat("test_", databases_++);
  }
  ASSIGN_OR_RETURN(auto conn, pg::Connection::Connect(Url("postgres")));
  RETURN_IF_ERROR(conn->Run(absl::StrCat("CREATE DATABASE ", name, " STRATEGY FILE_COPY")));
  return Url(name);
}

}  // namespace remediator::testing
