# Sourced by bench/run.sh and bench/scale.sh: installs wrk and nginx from the
# distribution's packages if missing, and builds the release binaries: the
# gateway, and crates/bench's (upstream, setup, the hyper floor
# bench-forward, the forwarding-only bench-portcullis-forward).
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v taskset >/dev/null || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}" >/dev/null
fi

cargo build --release -q -p portcullis -p portcullis-bench --bins
