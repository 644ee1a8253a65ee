#!/usr/bin/env bash
# A new Pulumi project from the template (templates/kore-bot) that uses THIS checkout's kore-resources and
# the local Kore.ai sandbox, ready for `pulumi preview` and `pulumi up` against the sandbox:
#
#   scripts/new-project.sh DIR [--name NAME] [--stack STACK] [--secrets-provider PROVIDER]
#
# It runs `pulumi new <this checkout>/templates/kore-bot --dir DIR --generate-only`, then:
#   - points DIR/requirements.txt at this checkout (`kore-resources[sandbox] @ file://...` and kore-sandbox
#     beside it: no package index serves them here) and installs it into DIR/venv;
#   - creates the stack (default `dev`) on a file backend in DIR/.pulumi-state, unless PULUMI_BACKEND_URL
#     names another, with a passphrase secrets provider, unless --secrets-provider names another; the
#     passphrase is yours (PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE) or a new random one
#     in DIR/.pulumi-state/passphrase;
#   - sets the stack's config for the sandbox on 127.0.0.1:${KORE_SANDBOX_PORT:-8089}: kore:host, the
#     sandbox demo app's kore:clientId and kore:clientSecret (a secret), the sandbox bot travel-dev's botId;
#   - writes DIR/pulumi-env.sh (the backend, the passphrase file, the CLI and its Python: source it in each
#     shell) and prints the next commands.
# Without `pulumi` on PATH it uses the CLI scripts/pulumi-cli.sh built, or builds it when Go is there
# (scripts/find-pulumi.sh).
set -euo pipefail

usage="usage: scripts/new-project.sh DIR [--name NAME] [--stack STACK] [--secrets-provider PROVIDER]"
checkout="$(cd "$(dirname "$0")/.." && pwd)"
fail() { printf 'new-project: %s\n' "$*" >&2; exit 2; }

dir="" name="" stack=dev provider=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --name | --stack | --secrets-provider)
      [ $# -ge 2 ] && [ -n "$2" ] || fail "$1 needs a value; $usage"
      case "$1" in --name) name=$2 ;; --stack) stack=$2 ;; *) provider=$2 ;; esac
      shift 2
      ;;
    -*) fail "unknown option $1; $usage" ;;
    *) [ -z "$dir" ] || fail "one DIR only (got '$dir' and '$1'); $usage"; dir=$1; shift ;;
  esac
done
[ -n "$dir" ] || fail "$usage"
if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
  fail "$dir exists and is not empty; name a new folder (or an empty one)"
fi
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
trap 'echo "new-project: stopped before the end; $dir is incomplete: remove it and run this again" >&2' ERR
name="${name:-$(basename "$dir")}"
[[ "$name" =~ ^[A-Za-z0-9_.-]{1,100}$ ]] ||
  fail "'$name' is not a Pulumi project name (letters, digits, _, . and -); pass --name NAME"
port="${KORE_SANDBOX_PORT:-8089}"
[[ "$port" =~ ^[0-9]{1,5}$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] ||
  fail "KORE_SANDBOX_PORT=$port is not a port from 1 to 65535"
port=$((10#$port))

# shellcheck source=scripts/find-pulumi.sh
source "$checkout/scripts/find-pulumi.sh"
find_pulumi || exit 1
cli_dir="$(dirname "$(command -v pulumi)")"
started=$SECONDS

echo "Making $dir from $checkout/templates/kore-bot (pulumi new)"
PULUMI_SKIP_UPDATE_CHECK="${PULUMI_SKIP_UPDATE_CHECK:-true}" pulumi new "$checkout/templates/kore-bot" \
  --dir "$dir" --generate-only --yes --non-interactive --name "$name" \
  --description "A Kore.ai bot whose ML utterances live in git (kore-resources)" >/dev/null

# The backend and the secrets provider: the user's, else a folder of the project and a passphrase.
env_lines=()
mkdir -p "$dir/.pulumi-state"
if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
  export PULUMI_BACKEND_URL="file://$dir/.pulumi-state"
  env_lines+=("$(printf 'export PULUMI_BACKEND_URL=%q' "$PULUMI_BACKEND_URL")")
  backend="$PULUMI_BACKEND_URL (a folder of the project)"
else
  backend="$PULUMI_BACKEND_URL (yours: PULUMI_BACKEND_URL)"
fi
if [ -n "$provider" ] && [ "$provider" != passphrase ]; then
  secrets="$provider (yours: --secrets-provider)"
elif [ -n "${PULUMI_CONFIG_PASSPHRASE:-}${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  secrets="passphrase (yours: PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE)"
else
  passphrase_file="$dir/.pulumi-state/passphrase"
  (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(32))' >"$passphrase_file")
  export PULUMI_CONFIG_PASSPHRASE_FILE="$passphrase_file"
  env_lines+=("$(printf 'export PULUMI_CONFIG_PASSPHRASE_FILE=%q' "$passphrase_file")")
  secrets="passphrase, a new random one in $passphrase_file (keep it: without it the stack's secrets are lost)"
fi
case "$cli_dir" in
  "${KORE_PULUMI_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kore-resources/pulumi-cli}"/*)
    env_lines+=("$(printf 'export PATH=%q:"$PATH"  # the CLI scripts/pulumi-cli.sh built' "$cli_dir")") ;;
esac
# The official CLI runs the program in Pulumi.yaml's virtualenv by itself; the one scripts/pulumi-cli.sh
# builds needs to be told (README, "How it is tested"). Harmless for the official one.
export PULUMI_PYTHON_CMD="$dir/venv/bin/python"
env_lines+=("$(printf 'export PULUMI_PYTHON_CMD=%q' "$PULUMI_PYTHON_CMD")")
export PULUMI_SKIP_UPDATE_CHECK="${PULUMI_SKIP_UPDATE_CHECK:-true}"

# This checkout's packages: no index here serves kore-resources or kore-sandbox.
uri() { python3 -c 'import pathlib, sys; print(pathlib.Path(sys.argv[1]).as_uri())' "$1"; }
cat >"$dir/requirements.txt" <<EOF
# kore-resources and the local Kore.ai sandbox from the checkout this project was made from
# (scripts/new-project.sh). From a package index instead: kore-resources>=0.3,<0.4
kore-resources[sandbox] @ $(uri "$checkout")
kore-sandbox @ $(uri "$checkout/kore-sandbox")
EOF
printf '%s\n' "pulumi-env.sh" >>"$dir/.gitignore"

echo "Installing kore-resources and kore-sandbox from $checkout into $dir/venv"
python3 -m venv "$dir/venv"
"$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$dir/requirements.txt"

echo "Creating the stack $stack (backend: $PULUMI_BACKEND_URL)"
cd "$dir"
pulumi stack init "$stack" --non-interactive ${provider:+--secrets-provider "$provider"}
host="http://127.0.0.1:$port"
# The sandbox's published demo app (kore-sandbox prints it) and its bot travel-dev.
pulumi config set kore:host "$host" --non-interactive
pulumi config set kore:clientId cs-3b1f6a52-8c0d-4e57-9a11-6f2d0c9e7b44 --non-interactive
pulumi config set --secret kore:clientSecret sandbox-demo-secret-not-for-production --non-interactive
pulumi config set botId st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e02 --non-interactive
pulumi config set languages '["en"]' --non-interactive

{
  echo "# Source this in each shell you run pulumi in for this project:  . ./pulumi-env.sh"
  echo "# (written by $checkout/scripts/new-project.sh; not committed: it names this machine's paths)"
  printf '%s\n' "${env_lines[@]}"
} >pulumi-env.sh

cat <<EOF

Made $dir in $((SECONDS - started)) s: a Pulumi project from templates/kore-bot, stack $stack, for the
local Kore.ai sandbox on $host (bot travel-dev, language en).
  packages: kore-resources[sandbox] and kore-sandbox from $checkout, in $dir/venv
  backend:  $backend
  secrets:  $secrets
  config:   kore:host $host, the sandbox demo app's kore:clientId and kore:clientSecret (encrypted),
            botId st-7c0a4c1e-2b1d-4f0e-9d7a-1a2b3c4d5e02, languages ["en"] (Pulumi.$stack.yaml)

Next:
  cd $(printf %q "$dir")
  . ./pulumi-env.sh        # in each new shell: the backend, the passphrase, the CLI and its Python
  venv/bin/kore-sandbox --port $port --state-file .pulumi-state/sandbox-state.json &
                           # the local Kore.ai (or in another terminal; scripts/demo.sh's serves too)
  pulumi preview           # free: validation and diff only
  pulumi up                # trains utterances/en; run it again: nothing to do

For your own bot: pulumi config set kore:host https://platform.kore.ai; pulumi config set kore:clientId cs-...;
pulumi config set --secret kore:clientSecret ...; pulumi config set botId st-... (the README says more).
EOF
