// Field numbers are those of k8s.io/api and k8s.io/apimachinery generated.proto (v1.32), and
// were checked against the bodies kubectl v1.32.4 sends (tests/server/kubesim/protobuf_test.cc
// decodes captured bodies of every `kubectl create` generator).
#include "server/kubesim/proto_schemas.h"

#include <map>

namespace remediator::kubesim::proto {
namespace {

Field S(int n, const char* name) { return {n, name, Type::kString}; }
Field SP(int n, const char* name) { return {n, name, Type::kString, nullptr, false, true}; }
Field SL(int n, const char* name) { return {n, name, Type::kString, nullptr, true}; }
Field I32(int n, const char* name) { return {n, name, Type::kInt32}; }
Field I32P(int n, const char* name) { return {n, name, Type::kInt32, nullptr, false, true}; }
Field I64(int n, const char* name) { return {n, name, Type::kInt64}; }
Field I64P(int n, const char* name) { return {n, name, Type::kInt64, nullptr, false, true}; }
Field B(int n, const char* name) { return {n, name, Type::kBool}; }
Field BP(int n, const char* name) { return {n, name, Type::kBool, nullptr, false, true}; }
Field M(int n, const char* name, const char* msg) { return {n, name, Type::kMessage, msg}; }
Field ML(int n, const char* name, const char* msg) { return {n, name, Type::kMessage, msg, true}; }
Field In(int n, const char* msg) { return {n, "", Type::kInline, msg}; }
Field SM(int n, const char* name) { return {n, name, Type::kStringMap}; }
Field BM(int n, const char* name) { return {n, name, Type::kBytesMap}; }
Field QM(int n, const char* name) { return {n, name, Type::kQuantityMap}; }
Field IOS(int n, const char* name) { return {n, name, Type::kIntOrString}; }
Field IOSP(int n, const char* name) { return {n, name, Type::kIntOrString, nullptr, false, true}; }
Field T(int n, const char* name) { return {n, name, Type::kTime}; }

using Table = std::map<std::string, std::vector<Field>>;

void AddMeta(Table& t) {
  t["ObjectMeta"] = {S(1, "name"),
                     S(2, "generateName"),
                     S(3, "namespace"),
                     S(4, "selfLink"),
                     S(5, "uid"),
                     S(6, "resourceVersion"),
                     I64(7, "generation"),
                     T(8, "creationTimestamp"),
                     T(9, "deletionTimestamp"),
                     I64P(10, "deletionGracePeriodSeconds"),
                     SM(11, "labels"),
                     SM(12, "annotations"),
                     ML(13, "ownerReferences", "OwnerReference"),
                     SL(14, "finalizers")};
  t["OwnerReference"] = {S(1, "kind"),       S(3, "name"),        S(4, "uid"),
                         S(5, "apiVersion"), BP(6, "controller"), BP(7, "blockOwnerDeletion")};
  t["LabelSelector"] = {SM(1, "matchLabels"),
                        ML(2, "matchExpressions", "LabelSelectorRequirement")};
  t["LabelSelectorRequirement"] = {S(1, "key"), S(2, "operator"), SL(3, "values")};
  t["Empty"] = {};
}

void AddPodSpec(Table& t) {
  t["PodTemplateSpec"] = {M(1, "metadata", "ObjectMeta"), M(2, "spec", "PodSpec")};
  t["PodSpec"] = {ML(1, "volumes", "Volume"),
                  ML(2, "containers", "Container"),
                  S(3, "restartPolicy"),
                  I64P(4, "terminationGracePeriodSeconds"),
                  I64P(5, "activeDeadlineSeconds"),
                  S(6, "dnsPolicy"),
                  SM(7, "nodeSelector"),
                  S(8, "serviceAccountName"),
                  S(9, "serviceAccount"),
                  S(10, "nodeName"),
                  B(11, "hostNetwork"),
                  B(12, "hostPID"),
                  B(13, "hostIPC"),
                  M(14, "securityContext", "PodSecurityContext"),
                  ML(15, "imagePullSecrets", "LocalObjectReference"),
                  S(16, "hostname"),
                  S(17, "subdomain"),
                  S(19, "schedulerName"),
                  ML(20, "initContainers", "Container"),
                  BP(21, "automountServiceAccountToken"),
                  ML(22, "tolerations", "Toleration"),
                  S(24, "priorityClassName"),
                  I32P(25, "priority"),
                  BP(30, "enableServiceLinks")};
  t["PodSecurityContext"] = {I64P(2, "runAsUser"), BP(3, "runAsNonRoot"), I64P(5, "fsGroup"),
                             I64P(6, "runAsGroup")};
  t["Toleration"] = {S(1, "key"), S(2, "operator"), S(3, "value"), S(4, "effect"),
                     I64P(5, "tolerationSeconds")};
  t["LocalObjectReference"] = {S(1, "name")};
  t["Container"] = {S(1, "name"),
                    S(2, "image"),
                    SL(3, "command"),
                    SL(4, "args"),
                    S(5, "workingDir"),
                    ML(6, "ports", "ContainerPort"),
                    ML(7, "env", "EnvVar"),
                    M(8, "resources", "ResourceRequirements"),
                    ML(9, "volumeMounts", "VolumeMount"),
                    M(10, "livenessProbe", "Probe"),
                    M(11, "readinessProbe", "Probe"),
                    S(13, "terminationMessagePath"),
                    S(14, "imagePullPolicy"),
                    M(15, "securityContext", "SecurityContext"),
                    B(16, "stdin"),
                    B(17, "stdinOnce"),
                    B(18, "tty"),
                    S(20, "terminationMessagePolicy"),
                    M(22, "startupProbe", "Probe")};
  t["ContainerPort"] = {S(1, "name"), I32(2, "hostPort"), I32(3, "containerPort"), S(4, "protocol"),
                        S(5, "hostIP")};
  t["EnvVar"] = {S(1, "name"), S(2, "value"), M(3, "valueFrom", "EnvVarSource")};
  t["EnvVarSource"] = {M(1, "fieldRef", "ObjectFieldSelector"),
                       M(3, "configMapKeyRef", "KeySelector"), M(4, "secretKeyRef", "KeySelector")};
  t["ObjectFieldSelector"] = {S(1, "apiVersion"), S(2, "fieldPath")};
  t["KeySelector"] = {In(1, "LocalObjectReference"), S(2, "key"), BP(3, "optional")};
  t["ResourceRequirements"] = {QM(1, "limits"), QM(2, "requests")};
  t["VolumeMount"] = {S(1, "name"), B(2, "readOnly"), S(3, "mountPath"), S(4, "subPath")};
  t["Volume"] = {S(1, "name"), In(2, "VolumeSource")};
  t["VolumeSource"] = {M(2, "emptyDir", "EmptyDirVolumeSource"),
                       M(6, "secret", "SecretVolumeSource"),
                       M(10, "persistentVolumeClaim", "PVCVolumeSource"),
                       M(19, "configMap", "ConfigMapVolumeSource")};
  t["EmptyDirVolumeSource"] = {S(1, "medium")};
  t["SecretVolumeSource"] = {S(1, "secretName"), BP(4, "optional")};
  t["ConfigMapVolumeSource"] = {In(1, "LocalObjectReference"), BP(4, "optional")};
  t["PVCVolumeSource"] = {S(1, "claimName"), B(2, "readOnly")};
  t["Probe"] = {In(1, "ProbeHandler"),   I32(2, "initialDelaySeconds"), I32(3, "timeoutSeconds"),
                I32(4, "periodSeconds"), I32(5, "successThreshold"),    I32(6, "failureThreshold")};
  t["ProbeHandler"] = {M(1, "exec", "ExecAction"), M(2, "httpGet", "HTTPGetAction"),
                       M(3, "tcpSocket", "TCPSocketAction")};
  t["ExecAction"] = {SL(1, "command")};
  t["HTTPGetAction"] = {S(1, "path"), IOS(2, "port"), S(3, "host"), S(4, "scheme")};
  t["TCPSocketAction"] = {IOS(1, "port")};
  t["SecurityContext"] = {BP(2, "privileged"), I64P(4, "runAsUser"), BP(5, "runAsNonRoot"),
                          BP(6, "readOnlyRootFilesystem"), BP(7, "allowPrivilegeEscalation")};
}

void AddCore(Table& t) {
  t["Namespace"] = {M(1, "metadata", "ObjectMeta"), M(2, "spec", "NamespaceSpec"),
                    M(3, "status", "NamespaceStatus")};
  t["NamespaceSpec"] = {SL(1, "finalizers")};
  t["NamespaceStatus"] = {S(1, "phase")};
  t["ConfigMap"] = {M(1, "metadata", "ObjectMeta"), SM(2, "data"), BM(3, "binaryData"),
                    BP(4, "immutable")};
  t["Secret"] = {M(1, "metadata", "ObjectMeta"), BM(2, "data"), S(3, "type"), SM(4, "stringData"),
                 BP(5, "immutable")};
  t["ServiceAccount"] = {M(1, "metadata", "ObjectMeta"), ML(2, "secrets", "ObjectReference"),
                         ML(3, "imagePullSecrets", "LocalObjectReference"),
                         BP(4, "automountServiceAccountToken")};
  t["ObjectReference"] = {S(1, "kind"),     S(2, "namespace"),  S(3, "name"),
                          S(4, "uid"),      S(5, "apiVersion"), S(6, "resourceVersion"),
                          S(7, "fieldPath")};
  t["Service"] = {M(1, "metadata", "ObjectMeta"), M(2, "spec", "ServiceSpec"),
                  M(3, "status", "Empty")};
  t["ServiceSpec"] = {ML(1, "ports", "ServicePort"),
                      SM(2, "selector"),
                      S(3, "clusterIP"),
                      S(4, "type"),
                      SL(5, "externalIPs"),
                      S(7, "sessionAffinity"),
                      S(8, "loadBalancerIP"),
                      SL(9, "loadBalancerSourceRanges"),
                      S(10, "externalName"),
                      S(11, "externalTrafficPolicy"),
                      I32(12, "healthCheckNodePort"),
                      B(13, "publishNotReadyAddresses"),
                      SP(17, "ipFamilyPolicy"),
                      SL(18, "clusterIPs"),
                      SL(19, "ipFamilies"),
                      BP(20, "allocateLoadBalancerNodePorts"),
                      SP(21, "loadBalancerClass"),
                      SP(22, "internalTrafficPolicy")};
  t["ServicePort"] = {S(1, "name"),         S(2, "protocol"),   I32(3, "port"),
                      IOS(4, "targetPort"), I32(5, "nodePort"), SP(6, "appProtocol")};
  t["ResourceQuota"] = {M(1, "metadata", "ObjectMeta"), M(2, "spec", "ResourceQuotaSpec"),
                        M(3, "status", "ResourceQuotaStatus")};
  t["ResourceQuotaSpec"] = {QM(1, "hard"), SL(2, "scopes")};
  t["ResourceQuotaStatus"] = {QM(1, "hard"), QM(2, "used")};
  t["Pod"] = {M(1, "metadata", "ObjectMeta"), M(2, "spec", "PodSpec"), M(3, "status", "Empty")};
  t["PersistentVolumeClaim"] = {M(1, "metadata", "ObjectMeta"), M(2, "spec", "PVCSpec"),
                                M(3, "status", "Empty")};
  t["PVCSpec"] = {SL(1, "accessModes"),      M(2, "resources", "VolumeResourceRequirements"),
                  S(3, "volumeName"),        M(4, "selector", "LabelSelector"),
                  SP(5, "storageClassName"), SP(6, "volumeMode")};
  t["VolumeResourceRequirements"] = {QM(1, "limits"), QM(2, "requests")};
}

void AddWorkloads(Table& t) {
  t["Deployment"] = {M(1, "metadata", "ObjectMeta"), M(2, "spec", "DeploymentSpec"),
                     M(3, "status", "Empty")};
  t["DeploymentSpec"] = {I32P(1, "replicas"),
                         M(2, "selector", "LabelSelector"),
                         M(3, "template", "PodTemplateSpec"),
                         M(4, "strategy", "DeploymentStrategy"),
                         I32(5, "minReadySeconds"),
                         I32P(6, "revisionHistoryLimit"),
                         B(7, "paused"),
                         I32P(9, "progressDeadlineSeconds")};
  t["DeploymentStrategy"] = {S(1, "type"), M(2, "rollingUpdate", "RollingUpdateDeployment")};
  t["RollingUpdateDeployment"] = {IOSP(1, "maxUnavailable"), IOSP(2, "maxSurge")};
  t["Job"] = {M(1, "metadata", "ObjectMeta"), M(2, "spec", "JobSpec"), M(3, "status", "Empty")};
  t["JobSpec"] = {I32P(1, "parallelism"),           I32P(2, "completions"),
                  I64P(3, "activeDeadlineSeconds"), M(4, "selector", "LabelSelector"),
                  BP(5, "manualSelector"),          M(6, "template", "PodTemplateSpec"),
                  I32P(7, "backoffLimit"),          I32P(8, "ttlSecondsAfterFinished"),
                  SP(9, "completionMode"),          BP(10, "suspend")};
  t["CronJob"] = {M(1, "metadata", "ObjectMeta"), M(2, "spec", "CronJobSpec"),
                  M(3, "status", "Empty")};
  t["CronJobSpec"] = {S(1, "schedule"),
                      I64P(2, "startingDeadlineSeconds"),
                      S(3, "concurrencyPolicy"),
                      BP(4, "suspend"),
                      M(5, "jobTemplate", "JobTemplateSpec"),
                      I32P(6, "successfulJobsHistoryLimit"),
                      I32P(7, "failedJobsHistoryLimit"),
                      SP(8, "timeZone")};
  t["JobTemplateSpec"] = {M(1, "metadata", "ObjectMeta"), M(2, "spec", "JobSpec")};
  t["PodDisruptionBudget"] = {M(1, "metadata", "ObjectMeta"), M(2, "spec", "PDBSpec"),
                              M(3, "status", "Empty")};
  t["PDBSpec"] = {IOSP(1, "minAvailable"), M(2, "selector", "LabelSelector"),
                  IOSP(3, "maxUnavailable"), SP(4, "unhealthyPodEvictionPolicy")};
  t["PriorityClass"] = {M(1, "metadata", "ObjectMeta"), I32(2, "value"), B(3, "globalDefault"),
                        S(4, "description"), SP(5, "preemptionPolicy")};
}

void AddNetworking(Table& t) {
  t["Ingress"] = {M(1, "metadata", "ObjectMeta"), M(2, "spec", "IngressSpec"),
                  M(3, "status", "Empty")};
  t["IngressSpec"] = {M(1, "defaultBackend", "IngressBackend"), ML(2, "tls", "IngressTLS"),
                      ML(3, "rules", "IngressRule"), SP(4, "ingressClassName")};
  t["IngressBackend"] = {M(4, "service", "IngressServiceBackend")};
  t["IngressServiceBackend"] = {S(1, "name"), M(2, "port", "ServiceBackendPort")};
  t["ServiceBackendPort"] = {S(1, "name"), I32(2, "number")};
  t["IngressTLS"] = {SL(1, "hosts"), S(2, "secretName")};
  t["IngressRule"] = {S(1, "host"), In(2, "IngressRuleValue")};
  t["IngressRuleValue"] = {M(1, "http", "HTTPIngressRuleValue")};
  t["HTTPIngressRuleValue"] = {ML(1, "paths", "HTTPIngressPath")};
  t["HTTPIngressPath"] = {S(1, "path"), M(2, "backend", "IngressBackend"), SP(3, "pathType")};
}

void AddAuth(Table& t) {
  t["Role"] = {M(1, "metadata", "ObjectMeta"), ML(2, "rules", "PolicyRule")};
  t["ClusterRole"] = {M(1, "metadata", "ObjectMeta"), ML(2, "rules", "PolicyRule"),
                      M(3, "aggregationRule", "AggregationRule")};
  t["AggregationRule"] = {ML(1, "clusterRoleSelectors", "LabelSelector")};
  t["PolicyRule"] = {SL(1, "verbs"), SL(2, "apiGroups"), SL(3, "resources"), SL(4, "resourceNames"),
                     SL(5, "nonResourceURLs")};
  t["RoleBinding"] = {M(1, "metadata", "ObjectMeta"), ML(2, "subjects", "Subject"),
                      M(3, "roleRef", "RoleRef")};
  t["Subject"] = {S(1, "kind"), S(2, "apiGroup"), S(3, "name"), S(4, "namespace")};
  t["RoleRef"] = {S(1, "apiGroup"), S(2, "kind"), S(3, "name")};
  t["TokenRequest"] = {M(1, "metadata", "ObjectMeta"), M(2, "spec", "TokenRequestSpec"),
                       M(3, "status", "Empty")};
  t["TokenRequestSpec"] = {SL(1, "audiences"), M(3, "boundObjectRef", "BoundObjectReference"),
                           I64P(4, "expirationSeconds")};
  t["BoundObjectReference"] = {S(1, "kind"), S(2, "apiVersion"), S(3, "name"), S(4, "uid")};
  t["SelfSubjectAccessReview"] = {M(1, "metadata", "ObjectMeta"), M(2, "spec", "SSARSpec"),
                                  M(3, "status", "Empty")};
  t["SSARSpec"] = {M(1, "resourceAttributes", "ResourceAttributes"),
                   M(2, "nonResourceAttributes", "NonResourceAttributes")};
  t["SubjectAccessReview"] = {M(1, "metadata", "ObjectMeta"), M(2, "spec", "SARSpec"),
                              M(3, "status", "Empty")};
  t["SARSpec"] = {M(1, "resourceAttributes", "ResourceAttributes"),
                  M(2, "nonResourceAttributes", "NonResourceAttributes"), S(3, "user"),
                  SL(4, "groups"), S(6, "uid")};
  t["ResourceAttributes"] = {S(1, "namespace"), S(2, "verb"),        S(3, "group"), S(4, "version"),
                             S(5, "resource"),  S(6, "subresource"), S(7, "name")};
  t["NonResourceAttributes"] = {S(1, "path"), S(2, "verb")};
  t["SelfSubjectRulesReview"] = {M(1, "metadata", "ObjectMeta"), M(2, "spec", "SSRRSpec"),
                                 M(3, "status", "Empty")};
  t["SSRRSpec"] = {S(1, "namespace")};
  t["SelfSubjectReview"] = {M(1, "metadata", "ObjectMeta"), M(2, "status", "Empty")};
}

const Table& Messages() {
  static const Table* table = [] {
    auto* t = new Table;
    AddMeta(*t);
    AddPodSpec(*t);
    AddCore(*t);
    AddWorkloads(*t);
    AddNetworking(*t);
    AddAuth(*t);
    return t;
  }();
  return *table;
}

}  // namespace

const std::vector<Field>* FindMessage(const std::string& message) {
  auto it = Messages().find(message);
  return it == Messages().end() ? nullptr : &it->second;
}

std::string MessageForKind(const std::string& api_version, const std::string& kind) {
  static const auto* kinds = new std::map<std::string, std::string>{
      {"v1/Namespace", "Namespace"},
      {"v1/ConfigMap", "ConfigMap"},
      {"v1/Secret", "Secret"},
      {"v1/ServiceAccount", "ServiceAccount"},
      {"v1/Service", "Service"},
      {"v1/ResourceQuota", "ResourceQuota"},
      {"v1/Pod", "Pod"},
      {"v1/PersistentVolumeClaim", "PersistentVolumeClaim"},
      {"apps/v1/Deployment", "Deployment"},
      {"batch/v1/Job", "Job"},
      {"batch/v1/CronJob", "CronJob"},
      {"policy/v1/PodDisruptionBudget", "PodDisruptionBudget"},
      {"scheduling.k8s.io/v1/PriorityClass", "PriorityClass"},
      {"networking.k8s.io/v1/Ingress", "Ingress"},
      {"rbac.authorization.k8s.io/v1/Role", "Role"},
      {"rbac.authorization.k8s.io/v1/ClusterRole", "ClusterRole"},
      {"rbac.authorization.k8s.io/v1/RoleBinding", "RoleBinding"},
      {"rbac.authorization.k8s.io/v1/ClusterRoleBinding", "RoleBinding"},
      {"authentication.k8s.io/v1/TokenRequest", "TokenRequest"},
      {"authorization.k8s.io/v1/SelfSubjectAccessReview", "SelfSubjectAccessReview"},
      {"authorization.k8s.io/v1/SelfSubjectRulesReview", "SelfSubjectRulesReview"},
      {"authorization.k8s.io/v1/SubjectAccessReview", "SubjectAccessReview"},
      {"authorization.k8s.io/v1/LocalSubjectAccessReview", "SubjectAccessReview"},
      {"authentication.k8s.io/v1/SelfSubjectReview", "SelfSubjectReview"},
  };
  auto it = kinds->find(api_version + "/" + kind);
  return it == kinds->end() ? "" : it->second;
}

}  // namespace remediator::kubesim::proto
