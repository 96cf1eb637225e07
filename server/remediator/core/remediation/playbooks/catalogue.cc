// The playbooks, most specific first: the first one whose evidence is there proposes.
#include "server/remediator/core/remediation/playbooks/playbook.h"

namespace remediator::remediation::playbooks {

extern const Playbook kFixKeyRef;
extern const Playbook kFixCommandTypo;
extern const Playbook kAddSubPath;
extern const Playbook kMountWritablePath;
extern const Playbook kEnvFromSecret;
extern const Playbook kRollBackImage;
extern const Playbook kFitRequest;
extern const Playbook kFixNodeSelector;
extern const Playbook kFixProbes;
extern const Playbook kRaiseMemory;

const std::vector<Playbook>& Catalogue() {
  static const auto* catalogue = new std::vector<Playbook>{
      kFixKeyRef,     kFixCommandTypo, kAddSubPath,      kMountWritablePath, kEnvFromSecret,
      kRollBackImage, kFitRequest,     kFixNodeSelector, kFixProbes,         kRaiseMemory,
  };
  return *catalogue;
}

}  // namespace remediator::remediation::playbooks
