#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Print the folder holding Strimzi's CRDs (Kafka, KafkaNodePool, KafkaTopic, KafkaUser),
# made from Strimzi's jars on Maven Central (pom.xml beside this script) by the same
# generator Strimzi's build uses. Cached in $FIRESTORM_STACK_DIR/strimzi-crds and made
# again whenever pom.xml changes. Needs Java 17 and Maven, like the local Kafka broker.
set -euo pipefail
LOG_TAG=strimzi
# shellcheck source=../../local/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../../local/lib.sh"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${STACK_DIR}/strimzi-crds"
libs="${STACK_DIR}/strimzi-libs"
want="$(sha256sum "$here/pom.xml" | awk '{ print $1 }')"
if [[ -f "$out/.pom.sha256" && "$(cat "$out/.pom.sha256")" == "$want" ]]; then
  printf '%s\n' "$out"
  exit 0
fi
ensure_stack_dir
command -v mvn >/dev/null 2>&1 || die "mvn not found: install maven (apt-get install maven)"
command -v java >/dev/null 2>&1 || die "java not found: install openjdk-17-jre-headless"
rm -rf "$out" "$libs"
mkdir -p "$out"
if ! mvn -B -q -Dstyle.color=never -f "$here/pom.xml" -Dfirestorm.strimzi.libs="$libs" package \
  </dev/null >"$out/mvn.log" 2>&1; then
  tail -n 40 "$out/mvn.log" >&2
  die "mvn failed to fetch the Strimzi jars (full output: $out/mvn.log)"
fi
model=io.strimzi.api.kafka.model
java -cp "$libs/*" io.strimzi.crdgenerator.CrdGenerator --target-kube 1.16+ \
  --crd-api-version v1 --api-versions v1beta2 --storage-version v1beta2 --yaml \
  "$model.kafka.Kafka=$out/040-Crd-kafka.yaml" \
  "$model.topic.KafkaTopic=$out/043-Crd-kafkatopic.yaml" \
  "$model.user.KafkaUser=$out/044-Crd-kafkauser.yaml" \
  "$model.nodepool.KafkaNodePool=$out/04A-Crd-kafkanodepool.yaml" \
  >"$out/generator.log" 2>&1 || { cat "$out/generator.log" >&2; die "CrdGenerator failed"; }
printf '%s\n' "$want" >"$out/.pom.sha256"
printf '%s\n' "$out"
