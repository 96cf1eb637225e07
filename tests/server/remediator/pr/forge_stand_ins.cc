#include "tests/server/remediator/pr/forge_stand_ins.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace remediator::pr::testing {
namespace {

using nlohmann::json;

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

// The raw request target (percent-encoding intact) when the server keeps it.
std::string RawTarget(const httplib::Request& req) {
  return req.target.empty() ? req.path : req.target;
}

bool IsJsonPost(const httplib::Request& req) {
  return absl::StartsWith(req.get_header_value("Content-Type"), "application/json");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
GithubStandIn::GithubStandIn(Clock& clock, std::string token, const std::string& prefix)
    : ForgeStandIn(clock, std::move(token)) {
  const std::string repo = prefix + "/repos/acme/widgets";
  http_.server().Post(repo + "/pulls", [this](const httplib::Request& req, httplib::Response& res) {
    if (!Admit(req, res)) return;
    if (!IsJsonPost(req)) http_.Log(req, "POST without Content-Type: application/json");
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) return Reply(res, 400, {{"message", "Problems parsing JSON"}});
    if (!body.is_object()) return Reply(res, 400, {{"message", "Body should be a JSON object"}});
    for (const char* field : {"title", "head", "base"}) {
      if (!body.contains(field) || !body[field].is_string() ||
          body[field].get<std::string>().empty()) {
        return Reply(
            res, 422,
            {{"message", "Validation Failed"},
             {"errors",
              {{{"resource", "PullRequest"}, {"field", field}, {"code", "missing_field"}}}}});
      }
    }
    std::string head = body["head"];
    absl::MutexLock lock(&mu_);
    for (const json& pr : pulls_) {
      if (pr["head"]["ref"] == head && pr["state"] == "open") {
        return Reply(
            res, 422,
            {{"message", "Validation Failed"},
             {"errors",
              {{{"resource", "PullRequest"},
                {"code", "custom"},
                {"message", absl::StrCat("A pull request already exists for acme:", head, ".")}}}},
             {"documentation_url",
              "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"},
             {"status", "422"}});
      }
    }
    int64_t number =
        AddLocked(head, body["base"], body["title"], body.value("body", ""), json::array());
    res.set_header("Location",
                   absl::StrCat("https://api.github.example/repos/acme/widgets/pulls/", number));
    Reply(res, 201, pulls_.back());
  });
  http_.server().Get(repo + "/pulls", [this](const httplib::Request& req, httplib::Response& res) {
    if (!Admit(req, res)) return;
    std::string head = req.get_param_value("head");
    std::string base = req.get_param_value("base");
    std::string state = req.has_param("state") ? req.get_param_value("state") : "open";
    // The documented trap: a head without "owner:" is silently ignored.
    std::string head_ref;
    if (absl::StartsWith(head, "acme:")) head_ref = head.substr(5);
    absl::MutexLock lock(&mu_);
    json out = json::array();
    for (const json& pr : pulls_) {
      if (!head_ref.empty() && pr["head"]["ref"] != head_ref) continue;
      if (!base.empty() && pr["base"]["ref"] != base) continue;
      if (state != "all" && pr["state"] != state) continue;
      out.push_back(pr);
    }
    Reply(res, 200, out);
  });
  http_.server().Post(repo + R"(/issues/(\d+)/labels)", [this](const httplib::Request& req,
                                                               httplib::Response& res) {
    if (!Admit(req, res)) return;
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("labels") || !body["labels"].is_array()) {
      http_.Log(req, "labels body is not {\"labels\": [...]}");
      return Reply(res, 422, {{"message", "Validation Failed"}});
    }
    int64_t number = std::stoll(req.matches[1]);
    absl::MutexLock lock(&mu_);
    json all = json::array();
    for (json& pr : pulls_) {
      if (pr["number"] != number) continue;
      for (const json& name : body["labels"]) {
        pr["labels"].push_back({{"id", 1}, {"name", name}, {"color", "d73a4a"}});
      }
      all = pr["labels"];
    }
    labels_posted_.push_back(body["labels"]);
    Reply(res, 200, all);
  });
}

bool GithubStandIn::Admit(const httplib::Request& req, httplib::Response& res) {
  std::string problem;
  if (req.get_header_value("Accept") != "application/vnd.github+json") {
    problem = "Accept is not application/vnd.github+json";
  } else if (req.get_header_value("X-GitHub-Api-Version") != "2022-11-28") {
    problem = "X-GitHub-Api-Version is not 2022-11-28";
  }
  http_.Log(req, problem);
  res.set_header("x-ratelimit-limit", "5000");
  res.set_header("x-ratelimit-resource", "core");
  if (req.get_header_value("User-Agent").empty()) {
    http_.Log(req, "no User-Agent");
    Reply(res, 403,
          {{"message",
            "Request forbidden by administrative rules. Please make sure your request has a "
            "User-Agent header"}});
    return false;
  }
  if (req.get_header_value("Authorization") != "Bearer " + token_) {
    Reply(res, 401,
          {{"message", "Bad credentials"},
           {"documentation_url", "https://docs.github.com/rest"},
           {"status", "401"}});
    return false;
  }
  if (RateLimited(res)) return false;
  res.set_header("x-ratelimit-remaining", "4999");
  return true;
}

int64_t GithubStandIn::AddLocked(const std::string& head, const std::string& base,
                                 const std::string& title, const std::string& body,
                                 const nlohmann::json& labels) {
  int64_t number = next_number_++;
  pulls_.push_back(
      {{"url", absl::StrCat("https://api.github.example/repos/acme/widgets/pulls/", number)},
       {"id", 1000 + number},
       {"html_url", absl::StrCat("https://github.example/acme/widgets/pull/", number)},
       {"number", number},
       {"state", "open"},
       {"draft", false},
       {"title", title},
       {"body", body},
       {"labels", labels},
       {"merged", false},
       {"head", {{"label", "acme:" + head}, {"ref", head}, {"sha", "6dcb09b5"}}},
       {"base", {{"label", "acme:" + base}, {"ref", base}, {"sha", "e5bd3914"}}}});
  return number;
}

// ---------------------------------------------------------------------------------------------
GitlabStandIn::GitlabStandIn(Clock& clock, std::string token)
    : ForgeStandIn(clock, std::move(token)) {
  const std::string project = R"(/api/v4/projects/(.+)/merge_requests)";
  http_.server().Post(project, [this](const httplib::Request& req, httplib::Response& res) {
    if (!Admit(req, res)) return;
    if (!IsJsonPost(req)) http_.Log(req, "POST without Content-Type: application/json");
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object()) return Reply(res, 400, {{"message", "400 Bad request"}});
    for (const char* field : {"source_branch", "target_branch", "title"}) {
      if (!body.contains(field) || !body[field].is_string()) {
        return Reply(res, 400, {{"error", absl::StrCat(field, " is missing")}});
      }
    }
    if (body.contains("labels") && !body["labels"].is_string()) {
      http_.Log(req, "labels must be a comma-separated string");
    }
    std::string source = body["source_branch"];
    absl::MutexLock lock(&mu_);
    for (const json& mr : pulls_) {
      if (mr["source_branch"] == source && mr["state"] == "opened") {
        return Reply(
            res, 409,
            {{"message",
              {absl::StrCat("Another open merge request already exists for this source branch: !",
                            mr["iid"].get<int64_t>())}}});
      }
    }
    json labels = json::array();
    if (body.contains("labels") && body["labels"].is_string()) {
      for (absl::string_view label : absl::StrSplit(body["labels"].get<std::string>(), ',')) {
        labels.push_back(std::string(label));
      }
    }
    AddLocked(source, body["target_branch"], body["title"], body.value("description", ""), labels);
    Reply(res, 201, pulls_.back());
  });
  http_.server().Get(project, [this](const httplib::Request& req, httplib::Response& res) {
    if (!Admit(req, res)) return;
    std::string state = req.get_param_value("state");
    std::string source = req.get_param_value("source_branch");
    std::string target = req.get_param_value("target_branch");
    absl::MutexLock lock(&mu_);
    json out = json::array();
    for (const json& mr : pulls_) {
      if (!state.empty() && state != "all" && mr["state"] != state) continue;
      if (!source.empty() && mr["source_branch"] != source) continue;
      if (!target.empty() && mr["target_branch"] != target) continue;
      out.push_back(mr);
    }
    Reply(res, 200, out);
  });
}

bool GitlabStandIn::Admit(const httplib::Request& req, httplib::Response& res) {
  std::string problem;
  if (!absl::StrContains(RawTarget(req), "/projects/acme%2Fwidgets/")) {
    problem = "project path not URL-encoded as acme%2Fwidgets";
  }
  http_.Log(req, problem);
  bool authorized = req.get_header_value("PRIVATE-TOKEN") == token_ ||
                    req.get_header_value("Authorization") == "Bearer " + token_;
  if (!authorized) {
    Reply(res, 401, {{"message", "401 Unauthorized"}});
    return false;
  }
  if (RateLimited(res)) {
    res.set_content("Retry later\n", "text/plain");
    return false;
  }
  return true;
}

int64_t GitlabStandIn::AddLocked(const std::string& head, const std::string& base,
                                 const std::string& title, const std::string& body,
                                 const nlohmann::json& labels) {
  int64_t iid = next_number_++;
  pulls_.push_back(
      {{"id", 9000 + iid},
       {"iid", iid},
       {"project_id", 77},
       {"title", title},
       {"description", body},
       {"state", "opened"},
       {"draft", false},
       {"source_branch", head},
       {"target_branch", base},
       {"web_url", absl::StrCat("https://gitlab.example/acme/widgets/-/merge_requests/", iid)},
       {"labels", labels},
       {"sha", "6dcb09b5"},
       {"author", {{"id", 5}, {"username", "remediator"}}},
       {"merge_status", "checking"}});
  return iid;
}

// ---------------------------------------------------------------------------------------------
GiteaStandIn::GiteaStandIn(Clock& clock, std::string token)
    : ForgeStandIn(clock, std::move(token)) {
  const std::string repo = "/api/v1/repos/acme/widgets";
  http_.server().Get(repo + "/labels", [this](const httplib::Request& req, httplib::Response& res) {
    if (!Admit(req, res)) return;
    Reply(res, 200,
          json::array({{{"id", 11}, {"name", "remediator"}, {"color", "00aabb"}},
                       {{"id", 12}, {"name", "bug"}, {"color", "ee0701"}}}));
  });
  http_.server().Post(repo + "/pulls", [this](const httplib::Request& req, httplib::Response& res) {
    if (!Admit(req, res)) return;
    if (!IsJsonPost(req)) http_.Log(req, "POST without Content-Type: application/json");
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object()) return Reply(res, 422, {{"message", "invalid JSON"}});
    if (body.contains("labels")) {
      for (const json& id : body["labels"]) {
        if (!id.is_number_integer()) http_.Log(req, "labels must be int64 ids");
      }
    }
    std::string head = body.value("head", "");
    std::string base = body.value("base", "");
    if (head.empty() || base.empty() || head == base) {
      return Reply(
          res, 422,
          {{"message", "Invalid PullRequest: There are no changes between the head and the base"},
           {"url", "https://gitea.example/api/swagger"}});
    }
    absl::MutexLock lock(&mu_);
    for (const json& pr : pulls_) {
      if (pr["head"]["ref"] == head && pr["base"]["ref"] == base && pr["state"] == "open") {
        return Reply(
            res, 409,
            {{"message", absl::StrCat("pull request already exists for these targets [id: ",
                                      800 + pr["number"].get<int64_t>(),
                                      ", issue_id: ", pr["number"].get<int64_t>(),
                                      ", head_repo_id: 11, base_repo_id: 11, head_branch: ", head,
                                      ", base_branch: ", base, "]")},
             {"url", "https://gitea.example/api/swagger"}});
      }
    }
    json labels = json::array();
    if (body.contains("labels")) {
      for (const json& id : body["labels"]) labels.push_back({{"id", id}});
    }
    AddLocked(head, base, body.value("title", ""), body.value("body", ""), labels);
    Reply(res, 201, pulls_.back());
  });
  http_.server().Get(repo + "/pulls", [this](const httplib::Request& req, httplib::Response& res) {
    if (!Admit(req, res)) return;
    std::string state = req.has_param("state") ? req.get_param_value("state") : "open";
    absl::MutexLock lock(&mu_);
    json out = json::array();
    for (const json& pr : pulls_) {
      if (state != "all" && pr["state"] != state) continue;
      out.push_back(pr);
    }
    Reply(res, 200, out);
  });
}

bool GiteaStandIn::Admit(const httplib::Request& req, httplib::Response& res) {
  http_.Log(req);
  if (req.get_header_value("Authorization") != "token " + token_) {
    Reply(res, 401,
          {{"message", "token is required"}, {"url", "https://gitea.example/api/swagger"}});
    return false;
  }
  return !RateLimited(res);
}

int64_t GiteaStandIn::AddLocked(const std::string& head, const std::string& base,
                                const std::string& title, const std::string& body,
                                const nlohmann::json& labels) {
  int64_t number = next_number_++;
  pulls_.push_back({{"id", 800 + number},
                    {"number", number},
                    {"html_url", absl::StrCat("https://gitea.example/acme/widgets/pulls/", number)},
                    {"state", "open"},
                    {"title", title},
                    {"body", body},
                    {"labels", labels},
                    {"merged", false},
                    {"mergeable", true},
                    {"head", {{"ref", head}, {"label", head}, {"sha", "6dcb09b5"}}},
                    {"base", {{"ref", base}, {"label", base}, {"sha", "e5bd3914"}}}});
  return number;
}

}  // namespace remediator::pr::testing
