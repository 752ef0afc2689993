#!/usr/bin/env bash
# Build the sandbox image (default gradeflow-sandbox:latest) from THIS host's Python,
# with no network and no registry pulls: a minimal root filesystem is assembled in a
# staging directory and handed to `docker import`.
#
# What goes in: the interpreter and its sys.path directories (stdlib, lib-dynload,
# site-packages, minus large packages a CPU sandbox does not need), a few shell tools
# (the container's command copies the submission with `sh`/`cp`), every shared
# library those need (found with ldd), /etc/passwd with `student` = uid 65534, and
# the mount points /home/student, /gf, /gf-files, /tmp. Layout is merged-/usr
# (/bin, /lib, /lib64 are symlinks into /usr) whatever the host uses.
#
# Usage:  services/worker/sandbox_image/build_image.sh                 build and tag the image
#         services/worker/sandbox_image/build_image.sh --environment NAME   the image of a student environment
#         services/worker/sandbox_image/build_image.sh --all               the default image and every built environment's
#         services/worker/sandbox_image/build_image.sh --rootfs-only DIR   only assemble the root fs in DIR
#
# A student environment's image (numpy, scientific, pytorch: gradeflow_worker.environments) holds the
# interpreter's standard library only, plus that environment's built venv at /opt/gradeflow-env, first on
# PATH; it is tagged after the default image's repository (gradeflow-sandbox-NAME:latest) and labelled with
# the venv's digest, which every run in it records. Build the venv first
# (python -m gradeflow_worker.environments build NAME).
# Environment:
#   DOCKER_HOST                   the daemon to import into (as for the docker CLI)
#   GRADEFLOW_SANDBOX_IMAGE       tag to build (default gradeflow-sandbox:latest)
#   GRADEFLOW_SANDBOX_PYTHON      interpreter to copy (default python3; not a venv)
#   GRADEFLOW_SANDBOX_EXCLUDE     top-level packages left out (space-separated); set to ""
#                                 and use another tag for a GPU image that needs torch
#   GRADEFLOW_ENVIRONMENTS_DIR    where the environments' venvs are built (default: the worker's setting)
#   FORCE=1                       rebuild even when the fingerprint is unchanged
#
# Idempotent: the image carries a fingerprint label (this script, the interpreter, the
# installed distributions, the exclusions); an unchanged fingerprint skips the build, and
# a new image replaces the tag only after it passed a smoke test.
set -euo pipefail

START=$(date +%s)
IMAGE=${GRADEFLOW_SANDBOX_IMAGE:-gradeflow-sandbox:latest}
PYTHON=${GRADEFLOW_SANDBOX_PYTHON:-python3}
DEFAULT_EXCLUDE="torch torchvision torchaudio triton nvidia tensorflow tensorboard jax jaxlib \
boto3 botocore s3transfer awscli moto cfnlint cfn_lint playwright \
sqlalchemy alembic psycopg psycopg_binary psycopg2 fastapi starlette uvicorn argon2 jwt jinja2 multipart \
python_multipart schemathesis hypothesis prometheus_client argon2_cffi _argon2_cffi_bindings argon2_cffi_bindings pyjwt \
gradeflow_protocol gradeflow_core gradeflow_graders gradeflow_worker gradeflow_api gradeflow_cli"
# The service's own stack never enters the sandbox: no database driver, ORM, web framework or password
# hashing, and none of gradeflow's code (the harness and the checks stay outside).
EXCLUDE=${GRADEFLOW_SANDBOX_EXCLUDE-$DEFAULT_EXCLUDE}
TOOLS=(sh cp ls cat env mkdir rm mv head tail wc grep sed uname id)
STDLIB_SKIP=(test idlelib tkinter turtledemo ensurepip)  # large and useless in a sandbox
ROOTFS_ONLY=""
ENVIRONMENT=""  # a student environment's name: its venv goes in, the interpreter's site-packages stay out
VENV=""
ENV_ROOT=/opt/gradeflow-env
ALL=""

die() { echo "build_image: $*" >&2; exit 1; }
note() { echo "build_image: $*"; }
elapsed() { echo "$(( $(date +%s) - START )) s"; }

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --rootfs-only) [ $# -ge 2 ] || die "--rootfs-only needs a directory"; ROOTFS_ONLY=$2; shift 2 ;;
      --environment) [ $# -ge 2 ] || die "--environment needs a name (numpy, scientific, pytorch)"
                     ENVIRONMENT=$2; shift 2 ;;
      --all) ALL=1; shift ;;
      -h|--help) sed -n '2,35p' "$0"; exit 0 ;;
      *) die "unknown argument: $1" ;;
    esac
  done
}

# Where a host path lives in the merged-/usr image.
image_path() {
  case "$1" in
    /bin/*|/sbin/*|/lib/*|/lib32/*|/lib64/*|/libx32/*) echo "/usr$1" ;;
    *) echo "$1" ;;
  esac
}

# A student environment: its built venv, the base interpreter under it, the image's tag and the venv's digest.
find_environment() {
  local where base
  where=${GRADEFLOW_ENVIRONMENTS_DIR:-$("$PYTHON" -c 'from gradeflow_worker.settings import WorkerSettings
print(WorkerSettings().environments_path)' 2>/dev/null)} \
    || die "cannot tell where environments are built: set GRADEFLOW_ENVIRONMENTS_DIR"
  VENV=$where/$ENVIRONMENT
  [ -f "$VENV/gradeflow-environment.json" ] && [ -x "$VENV/bin/python" ] \
    || die "the environment $ENVIRONMENT is not built in $VENV; run: python -m gradeflow_worker.environments build $ENVIRONMENT"
  ENV_DIGEST=$("$VENV/bin/python" -I -c 'import json, sys; print(json.load(open(sys.argv[1]))["digest"])' \
    "$VENV/gradeflow-environment.json") || die "unreadable stamp in $VENV"
  base=$("$VENV/bin/python" -I -c 'import sys; print(sys._base_executable)')
  PYTHON=$base
  if [ -z "${GRADEFLOW_SANDBOX_IMAGE:-}" ]; then
    # the name the worker looks for (gradeflow_worker.environments.environment_image, the one place it is made)
    IMAGE=$("$PYTHON" -c 'import sys; from gradeflow_worker.environments import environment_image
print(environment_image(sys.argv[1], sys.argv[2]))' "gradeflow-sandbox:latest" "$ENVIRONMENT") \
      || die "cannot name the image (gradeflow_worker is not importable by $PYTHON): set GRADEFLOW_SANDBOX_IMAGE"
  fi
}

check_python() {
  command -v "$PYTHON" >/dev/null || die "interpreter not found: $PYTHON"
  "$PYTHON" -c 'import sys; sys.exit(sys.prefix != sys.base_prefix)' \
    || die "$PYTHON is a virtual environment; point GRADEFLOW_SANDBOX_PYTHON at a base interpreter"
  [ -n "$ENVIRONMENT" ] || "$PYTHON" -c 'import numpy, ipykernel, zmq' 2>/dev/null \
    || die "$PYTHON lacks numpy/ipykernel/pyzmq (pip install numpy ipykernel)"
  PREFIX=$("$PYTHON" -c 'import sys; print(sys.base_prefix)')
  PYEXE=$(readlink -f "$("$PYTHON" -c 'import sys; print(sys.executable)')")
}

fingerprint() {
  {
    sha256sum < "$0"  # the script's content, not the path it was called by
    echo "$PYEXE $EXCLUDE ${TOOLS[*]} $(uname -m) environment=$ENVIRONMENT ${ENV_DIGEST:-}"
    ldd --version 2>&1 | head -n1
    "$PYTHON" -I -c 'import sys; print(sys.version)
import importlib.metadata as m
print(*sorted(str(d.metadata["Name"]) + "==" + d.version for d in m.distributions()), sep="\n")'
  } | sha256sum | cut -c1-32
}

# The directories of sys.path that exist (stdlib, lib-dynload, site-packages), resolved, with
# those inside another one dropped (pyenv keeps site-packages inside the stdlib directory).
# -I: no PYTHONPATH, no user site: only what belongs to the interpreter.
python_dirs() {
  "$PYTHON" -I -c 'import os, sys
dirs = sorted({os.path.realpath(p) for p in sys.path if p and os.path.isdir(p)})
for d in dirs:
    if not any(d.startswith(o + os.sep) for o in dirs if o != d):
        print(d)' | if [ -n "$ENVIRONMENT" ]; then grep -Ev '/(site|dist)-packages$'; else cat; fi
}

# tar exclusions; member names start with the copied directory's own name, e.g.
# "python3.11/site-packages/torch" or "dist-packages/torch", so these match wherever it is.
exclude_args() {
  local name where
  echo "--no-wildcards-match-slash"  # "python3.*/test" must not reach into site-packages/x/test
  echo "--ignore-case"  # dist-info folders keep the project's spelling (SQLAlchemy-2.0.dist-info)
  # a student environment's image: only its venv's packages, none of the interpreter's own
  [ -z "$ENVIRONMENT" ] || printf '%s\n' "--exclude=python3.*/site-packages" "--exclude=python3.*/dist-packages"
  for where in site-packages dist-packages; do  # editable installs' path hooks point at the host's checkout
    printf '%s\n' "--exclude=$where/__editable__*" "--exclude=$where/_gradeflow*"
  done
  for name in $EXCLUDE; do
    for where in site-packages dist-packages; do
      printf '%s\n' "--exclude=$where/$name" "--exclude=$where/$name-*.dist-info" "--exclude=$where/$name.libs"
    done
  done
  for name in "${STDLIB_SKIP[@]}"; do echo "--exclude=python3.*/$name"; done
  echo "--exclude=lib-dynload/_tkinter*"  # would drag in X11 libraries
}

copy_python() {
  local dir dest excludes bindir
  mapfile -t excludes < <(exclude_args)
  while read -r dir; do
    dest="$STAGE$(image_path "$(dirname "$dir")")"
    mkdir -p "$dest"
    # tar exits 1 when a file changed while read (a pip install or .pyc write elsewhere):
    # the copy is still whole enough, and the smoke test below has the last word.
    { tar -C "$(dirname "$dir")" --warning=no-file-changed "${excludes[@]}" -cf - "$(basename "$dir")" \
        || [ $? -eq 1 ]; } | tar -C "$dest" -xf -
  done < <(python_dirs)
  install_file "$PYEXE"
  bindir="$STAGE$(image_path "$PREFIX")/bin"
  mkdir -p "$bindir"
  # `python3` on PATH: the sandbox backend runs the kernel as `python3 -m ipykernel_launcher`.
  [ -e "$bindir/python3" ] || ln -s "$(image_path "$PYEXE")" "$bindir/python3"
}

# Copy one file to its image path (dereferenced), leaving alone what is already there.
install_file() {
  local real dest
  real=$(readlink -f "$1")
  dest="$STAGE$(image_path "$real")"
  [ -e "$dest" ] && return 0
  mkdir -p "$(dirname "$dest")"
  cp -L --preserve=mode "$real" "$dest"
}

# A library as the loader names it (e.g. /lib/x86_64-linux-gnu/libz.so.1): the file, plus
# the soname link when the name differs from the file's.
install_library() {
  local ref=$1 real link
  real=$(readlink -f "$ref")
  install_file "$real"
  link="$STAGE$(image_path "$(readlink -f "$(dirname "$ref")")")/$(basename "$ref")"
  if [ "$STAGE$(image_path "$real")" != "$link" ] && [ ! -e "$link" ] && [ ! -L "$link" ]; then
    mkdir -p "$(dirname "$link")"
    ln -s "$(image_path "$real")" "$link"
  fi
}

# The environment's venv at ENV_ROOT, its interpreter links pointing at the image's copy of the base one.
copy_venv() {
  local dest="$STAGE$ENV_ROOT" link
  mkdir -p "$dest"
  tar -C "$VENV" -cf - . | tar -C "$dest" -xf -
  for link in "$dest"/bin/python "$dest"/bin/python3 "$dest"/bin/python3.*; do
    [ -L "$link" ] || [ -e "$link" ] || continue
    rm -f "$link"; ln -s "$(image_path "$PYEXE")" "$link"
  done
  sed -i -e "s|^home = .*|home = $(dirname "$(image_path "$PYEXE")")|" -e '/^executable = /d' -e '/^command = /d' \
    "$dest/pyvenv.cfg"
}

copy_tools() {
  local tool path
  mkdir -p "$STAGE/usr/bin"
  for tool in "${TOOLS[@]}"; do
    path=$(command -v "$tool") || die "tool not found on this host: $tool"
    # Dereferenced under its own name: multi-call binaries (busybox, uutils) dispatch on argv[0].
    [ -e "$STAGE/usr/bin/$tool" ] || cp -L --preserve=mode "$path" "$STAGE/usr/bin/$tool"
  done
}

# Every shared library the staged ELF files need, by ldd (run on the host interpreter too:
# its RUNPATH names the host prefix); plus the few that are dlopen()ed and so invisible to
# ldd (libgcc_s for thread cancellation, NSS for uid -> name).
copy_libraries() {
  local lib libs missing
  libs=$(mktemp); missing=$(mktemp)
  { find "$STAGE" -type f \( -name '*.so' -o -name '*.so.*' -o -perm -u=x \) -print0; printf '%s\0' "$PYEXE"; } \
    | xargs -0 -r -n 64 -P "$(nproc)" ldd 2>/dev/null \
    | awk -v miss="$missing" '/=> not found/ {print $1 >> miss; next}
                              /=> \// {print $3; next}
                              /^\t\/[^ ]+ \(0x/ {print $1}' > "$libs" || true  # ldd fails on non-ELF files
  for lib in libgcc_s.so.1 libnss_files.so.2 libnss_compat.so.2; do
    # awk stops at the first match: ldconfig may then die of SIGPIPE, which is no failure
    { ldconfig -p 2>/dev/null || true; } | awk -v l="$lib" '$1 == l && /x86-64|AArch64/ {print $NF; exit}' >> "$libs"
  done
  while read -r lib; do
    case "$lib" in "$STAGE"/*|"") continue ;; esac  # found through $ORIGIN: already staged
    [ -e "$lib" ] && install_library "$lib"
  done < <(sort -u "$libs")
  # ldd of a bundled library alone misses siblings its loader finds through the parent's
  # RUNPATH (scipy.libs/libgfortran -> libquadmath): only warn about names staged nowhere.
  while read -r lib; do
    [ -n "$(find "$STAGE" -name "$lib" -print -quit)" ] || note "warning: library not found: $lib"
  done < <(sort -u "$missing")
  rm -f "$missing" "$libs"
}

write_etc() {
  mkdir -p "$STAGE/etc"
  printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nstudent:x:65534:65534:student:/home/student:/bin/sh\n' \
    > "$STAGE/etc/passwd"
  printf 'root:x:0:\nstudent:x:65534:\n' > "$STAGE/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files\n' > "$STAGE/etc/nsswitch.conf"
  [ -f /etc/ld.so.cache ] && cp /etc/ld.so.cache "$STAGE/etc/ld.so.cache"
  # Docker bind-mounts these; existing targets keep a read-only root simple.
  : > "$STAGE/etc/hosts"; : > "$STAGE/etc/hostname"; : > "$STAGE/etc/resolv.conf"
}

make_layout() {
  local d
  mkdir -p "$STAGE"/usr/{bin,sbin,lib,lib64,local/bin} "$STAGE"/{proc,sys,dev,root,gf,gf-files,home/student}
  for d in bin sbin lib lib64; do ln -s "usr/$d" "$STAGE/$d"; done
  mkdir -m 1777 "$STAGE/tmp"
  chmod 0700 "$STAGE/root"
}

build_rootfs() {
  make_layout
  copy_python
  [ -z "$ENVIRONMENT" ] || copy_venv
  copy_tools
  copy_libraries
  write_etc
  # World-readable, not world-writable: the sandbox uid must read the interpreter wherever
  # the host keeps it (pyenv under /root is 0700 on the host).
  chmod -R a+rX,go-w "$STAGE/usr" "$STAGE$(image_path "$PREFIX")" "$STAGE/etc"
  [ -z "$ENVIRONMENT" ] || chmod -R a+rX,go-w "$STAGE/opt"
  local p=$PREFIX
  while [ "$p" != "/" ]; do chmod a+rx "$STAGE$(image_path "$p")" 2>/dev/null || true; p=$(dirname "$p"); done
  chmod 0755 "$STAGE/home" "$STAGE/gf" "$STAGE/gf-files"
  # docker copies a tmpfs mount point's mode from the image (tmpcopyup), whatever mode= says:
  # the home the sandbox uid writes to must be world-writable (sticky) in the image itself
  chmod 1777 "$STAGE/home/student"
}

import_image() {
  local candidate="$IMAGE-build$$" path
  [[ "$IMAGE" == *:* ]] || candidate="$IMAGE:build$$"
  local labels=(--change "LABEL gradeflow.fingerprint=$FINGERPRINT")
  local smoke='import numpy, ipykernel.kernelapp, zmq; print("sandbox python ok:", numpy.__version__)'
  path="$(image_path "$PREFIX")/bin:/usr/local/bin:/usr/bin:/bin"
  if [ -n "$ENVIRONMENT" ]; then
    path="$ENV_ROOT/bin:$path"
    labels+=(--change "LABEL gradeflow.environment=$ENVIRONMENT" --change "LABEL gradeflow.environment_digest=$ENV_DIGEST")
    smoke="import sys, ipykernel.kernelapp, zmq; assert sys.prefix == '$ENV_ROOT', sys.prefix; print('environment $ENVIRONMENT ok:', sys.prefix)"
  fi
  tar --numeric-owner --owner=0 --group=0 -C "$STAGE" -cf - . \
    | docker import -m "gradeflow sandbox from $PYEXE" \
        --change "ENV PATH=$path" --change "ENV LANG=C.UTF-8" --change "ENV HOME=/home/student" \
        --change "WORKDIR /home/student" --change "USER 65534:65534" \
        "${labels[@]}" --change 'CMD ["python3"]' \
        - "$candidate" >/dev/null
  # Smoke test under the same confinement the backend uses, before the tag moves.
  if ! docker run --rm --pull never --network none --read-only --cap-drop ALL --user 65534:65534 \
      --tmpfs /tmp:rw,size=64m "$candidate" \
      python3 -c "$smoke"; then
    docker rmi "$candidate" >/dev/null 2>&1 || true
    die "smoke test failed; $IMAGE left unchanged"
  fi
  docker tag "$candidate" "$IMAGE"
  docker rmi "$candidate" >/dev/null
}

# --all: the default image, then one per student environment whose venv is built here.
build_all() {
  local where name built=0
  "$0"
  where=${GRADEFLOW_ENVIRONMENTS_DIR:-$("$PYTHON" -c 'from gradeflow_worker.settings import WorkerSettings
print(WorkerSettings().environments_path)')} || die "cannot tell where environments are built: set GRADEFLOW_ENVIRONMENTS_DIR"
  for name in $("$PYTHON" -c 'from gradeflow_protocol.environments import NAMED_ENVIRONMENTS; print(*NAMED_ENVIRONMENTS)'); do
    if [ -f "$where/$name/gradeflow-environment.json" ]; then
      GRADEFLOW_ENVIRONMENTS_DIR=$where "$0" --environment "$name"; built=$((built + 1))
    else
      note "environment $name is not built in $where: no image (python -m gradeflow_worker.environments build $name)"
    fi
  done
  note "--all: the default image and $built environment image(s) in $(elapsed)"
}

main() {
  parse_args "$@"
  if [ -n "$ALL" ]; then build_all; exit 0; fi
  [ -z "$ENVIRONMENT" ] || find_environment
  check_python
  if [ -z "$ROOTFS_ONLY" ]; then
    command -v docker >/dev/null || die "the docker CLI is not installed"
    docker info >/dev/null 2>&1 || die "cannot reach the Docker daemon (DOCKER_HOST=${DOCKER_HOST:-default})"
  fi
  FINGERPRINT=$(fingerprint)
  if [ -z "$ROOTFS_ONLY" ] && [ "${FORCE:-0}" != 1 ] && [ "$(docker image inspect --format \
      '{{ index .Config.Labels "gradeflow.fingerprint" }}' "$IMAGE" 2>/dev/null || true)" = "$FINGERPRINT" ]; then
    note "$IMAGE is up to date (fingerprint $FINGERPRINT); FORCE=1 rebuilds. took $(elapsed)"
    exit 0
  fi
  if [ -n "$ROOTFS_ONLY" ]; then
    [ ! -e "$ROOTFS_ONLY" ] || [ -z "$(ls -A "$ROOTFS_ONLY")" ] || die "$ROOTFS_ONLY exists and is not empty"
    mkdir -p "$ROOTFS_ONLY"; STAGE=$(cd "$ROOTFS_ONLY" && pwd)
  else
    STAGE=$(mktemp -d "${TMPDIR:-/tmp}/gf-sandbox-root.XXXXXX")
    trap 'rm -rf "$STAGE"' EXIT
  fi
  note "assembling the root filesystem from $PYEXE (prefix $PREFIX) in $STAGE"
  build_rootfs
  note "root filesystem: $(du -sh "$STAGE" | cut -f1)"
  if [ -n "$ROOTFS_ONLY" ]; then note "root filesystem only, in $STAGE; took $(elapsed)"; exit 0; fi
  import_image
  note "built $IMAGE (fingerprint $FINGERPRINT) in $(elapsed)"
}

main "$@"
