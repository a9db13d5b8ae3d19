// scripted_kube_api.h — a KubeApi (kube_client.h) that answers from a script and records every
// request it was asked, for tests of the client's callers without a server.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube_client.h"

namespace hostpass {

class ScriptedApi : public KubeApi {
 public:
  std::deque<Result<KubeResponse>> answers;  // the next call's answer first
  std::vector<KubeRequest> requests;         // in the order they came

  // Queues an answer with this status and this JSON body.
  void answer(long status, const nlohmann::json& body) {
    KubeResponse r;
    r.status = status;
    r.body = body.dump();
    answers.push_back(r);
  }
  // The next scripted answer; an io_error once the script has run out.
  Result<KubeResponse> call(const KubeRequest& request) override {
    requests.push_back(request);
    if (answers.empty()) return io_error("script ran out");
    Result<KubeResponse> r = answers.front();
    answers.pop_front();
    return r;
  }
};

}  // namespace hostpass
