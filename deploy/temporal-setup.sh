#!/usr/bin/env bash
# One-shot (docker-compose service temporal-setup): register the search attributes the liveshift workflow
# sets (workflows/models.py SEARCH_ATTRIBUTES), so the Temporal UI lists migrations by phase, tables, target.
set -euo pipefail
declare -A ATTRIBUTES=(
  [LiveshiftPhase]=Keyword
  [LiveshiftTables]=KeywordList
  [LiveshiftTarget]=Keyword
  [LiveshiftMigration]=Keyword
)
existing="$(temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "${TEMPORAL_NAMESPACE:-default}")"
for name in "${!ATTRIBUTES[@]}"; do
  if grep -qw "$name" <<<"$existing"; then
    echo "search attribute $name exists"
  else
    temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" \
      --namespace "${TEMPORAL_NAMESPACE:-default}" --name "$name" --type "${ATTRIBUTES[$name]}"
  fi
done
