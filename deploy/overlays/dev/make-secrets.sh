#!/usr/bin/env sh
# Writes the dev overlay's credentials and keys into ./secrets/ (git-ignored), one value per file,
# for kustomize's secretGenerator. Random each time it creates them; existing files are kept, so
# re-running never changes a running environment's keys (pass --force to start over: the
# MariaDB volume keeps the old password, so delete its PVC too).
set -eu
cd "$(dirname "$0")"
force=false
[ "${1:-}" = "--force" ] && force=true

rand() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }
# URL-safe (it goes into DATABASE_URL unescaped)
password() { head -c 18 /dev/urandom | base64 | tr -d '\n' | tr '+/' '-_'; }

umask 077
mkdir -p secrets
write() {
  if [ -s "secrets/$1" ] && [ "$force" = false ]; then return 0; fi
  printf '%s' "$2" > "secrets/$1"
  echo "wrote secrets/$1"
}

write mariadb-password "$(password)"
write mariadb-root-password "$(password)"
# Read back, so the URL always matches the password MariaDB was initialised with.
write database-url "mysql://authority:$(cat secrets/mariadb-password)@token-authority-mariadb:3306/authority"
write redis-url "redis://token-authority-redis:6379"
write token-signing-keys "dev1:$(rand 32)"
write token-pepper "$(rand 32)"
