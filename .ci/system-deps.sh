#!/bin/sh
# Installs the Debian packages named in $PACKAGES that are missing. As root it uses apt-get;
# otherwise it prints exactly what to install and stops.
set -eu
missing=""
for pkg in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "MediaStudio needs these system packages:$missing"
  echo "Install them with your package manager (ffmpeg, espeak-ng, chromium for the page tests), then run make again."
  exit 1
fi
if [ "$(id -u)" != "0" ]; then
  echo "MediaStudio needs these Debian packages:$missing"
  echo "Run:  sudo apt-get update && sudo apt-get install -y$missing"
  exit 1
fi
echo "Installing system packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
