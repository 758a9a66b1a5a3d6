#!/usr/bin/env bash
# The README's curl walk-through, runnable: log in → create a PAT → introspect it with a service
# token → regenerate → revoke. Needs a running authority and the first admin's password:
#   AUTHORITY=http://localhost:3000 ADMIN_USERNAME=admin ADMIN_PASSWORD=... bash scripts/walkthrough.sh
set -euo pipefail
A=${AUTHORITY:-http://localhost:3000}
U=${ADMIN_USERNAME:-admin}
P=${ADMIN_PASSWORD:?set ADMIN_PASSWORD to the password of the first admin}
# field NAME: one field of a JSON reply; an error reply (or a missing field) is printed and fails
# (the same helper as the README's)
field() { node -e '
  const reply = require("fs").readFileSync(0, "utf8"), name = process.argv[1]
  let body; try { body = JSON.parse(reply) } catch { body = undefined }
  const value = body?.statusCode >= 400 ? undefined : name.split(".").reduce((o, k) => o?.[k], body)
  if (value === undefined) { console.error(`field ${name}: not in this reply: ${reply}`); process.exit(1) }
  console.log(typeof value === "string" ? value : JSON.stringify(value))' "$1"; }
function post { curl -sS -X POST "$A$1" -H "authorization: Bearer $2" -H 'content-type: application/json' -d "$3"; }

echo "1. log in as the admin"
ADMIN_TOKEN=$(curl -sS -X POST "$A/v1/auth/admin/token" -H 'content-type: application/json' \
  -d "{\"username\":\"$U\",\"password\":\"$P\"}" | field access_token)

echo "2. create a personal access token (value shown once)"
PAT_JSON=$(post /v1/tokens "$ADMIN_TOKEN" "{\"name\":\"ci\",\"preset\":\"read-only\",\"password\":\"$P\"}")
PAT=$(echo "$PAT_JSON" | field access_token)
PAT_ID=$(echo "$PAT_JSON" | field token.id)
echo "   PAT id $PAT_ID"

echo "3. create a service account and a service token for introspection"
SVC_ID=$(post /v1/accounts "$ADMIN_TOKEN" \
  "{\"username\":\"gateway-$RANDOM\",\"password\":\"gateway-password-1\",\"kind\":\"service\",\"permissions\":[\"tokens:introspect\",\"tokens:introspect:reason\"],\"current_password\":\"$P\"}" | field id)
SVC_TOKEN=$(post "/v1/accounts/$SVC_ID/tokens" "$ADMIN_TOKEN" \
  "{\"name\":\"gateway\",\"preset\":\"introspection\",\"password\":\"$P\"}" | field access_token)

echo "4. introspect the PAT (RFC 7662, form-encoded like any gateway)"
curl -sS -X POST "$A/introspect" -H "authorization: Bearer $SVC_TOKEN" --data-urlencode "token=$PAT"; echo
[ "$(curl -sS -X POST "$A/introspect" -H "authorization: Bearer $SVC_TOKEN" --data-urlencode "token=$PAT" | field active)" = true ]

echo "5. regenerate it: a new value, the old one is dead at once"
NEW_PAT=$(post "/v1/tokens/$PAT_ID/regenerate" "$ADMIN_TOKEN" "{\"password\":\"$P\"}" | field access_token)
curl -sS -X POST "$A/introspect" -H "authorization: Bearer $SVC_TOKEN" --data-urlencode "token=$PAT"; echo
[ "$(curl -sS -X POST "$A/introspect" -H "authorization: Bearer $SVC_TOKEN" --data-urlencode "token=$PAT" | field active)" = false ]

echo "6. revoke the new one (RFC 7009 self-revocation: the token revokes itself)"
curl -sS -X POST "$A/revoke" -H "authorization: Bearer $NEW_PAT" --data-urlencode "token=$NEW_PAT"; echo
curl -sS -X POST "$A/introspect" -H "authorization: Bearer $SVC_TOKEN" --data-urlencode "token=$NEW_PAT"; echo
[ "$(curl -sS -X POST "$A/introspect" -H "authorization: Bearer $SVC_TOKEN" --data-urlencode "token=$NEW_PAT" | field reason)" = revoked ]
echo "walk-through complete"
