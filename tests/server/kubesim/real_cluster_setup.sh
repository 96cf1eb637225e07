#!/usr/bin/env bash
# A setup script written for a real cluster (kind, minikube, a cloud cluster): it uses only
# kubectl and the current kubeconfig context, and nothing kubesim-specific. The ctest
# kubesim_real_cluster_script runs it unchanged against kubesim (run_against_kubesim.sh).
set -euo pipefail

NS="${NS:-shop}"

kubectl create namespace "$NS"
kubectl -n "$NS" create deployment web --image=nginx:1.27 --replicas=2 --port=80
kubectl -n "$NS" expose deployment web --port=80 --target-port=80
kubectl -n "$NS" create configmap web-config --from-literal=MODE=production
kubectl -n "$NS" create secret generic web-secret --from-literal=password=s3cr3t
kubectl -n "$NS" create serviceaccount web-deployer

kubectl apply -f - <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: web-data
  namespace: $NS
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
YAML

kubectl -n "$NS" create role deployer --verb=get,list,watch,patch --resource=deployments.apps,pods
kubectl -n "$NS" create rolebinding deployer --role=deployer \
  --serviceaccount="$NS:web-deployer"

kubectl -n "$NS" wait --for=condition=Available deployment/web --timeout=120s
kubectl -n "$NS" rollout status deployment/web --timeout=120s
kubectl -n "$NS" wait --for=jsonpath='{.status.phase}'=Bound pvc/web-data --timeout=120s

# The Service has the pods' addresses.
endpoints="$(kubectl -n "$NS" get endpoints web -o jsonpath='{.subsets[0].addresses[*].ip}')"
count="$(wc -w <<<"$endpoints")"
if [[ "$count" -ne 2 ]]; then
  echo "expected 2 endpoint addresses for service web, got: '$endpoints'" >&2
  exit 1
fi

# The deployer may patch deployments but not read secrets.
kubectl -n "$NS" auth can-i patch deployments.apps --as="system:serviceaccount:$NS:web-deployer"
if kubectl -n "$NS" auth can-i get secrets --as="system:serviceaccount:$NS:web-deployer"; then
  echo "the deployer service account must not read secrets" >&2
  exit 1
fi

kubectl -n "$NS" get deployment,service,pvc,role,rolebinding
kubectl delete namespace "$NS"
echo "setup script OK"
