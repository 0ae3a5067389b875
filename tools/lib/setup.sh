#!/usr/bin/env bash
# Shared helpers for tools/test, tools/demo and tools/bench.
#
# Source it; do not run it:
#     source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"
#
# Provides
#   UVINET_ROOT                           absolute path of the repository root
#   uvinet_install_packages [pkg...]      apt-get install what is missing of the
#                                         base package list plus the given names
#   uvinet_configure BUILD_DIR [opt...]   meson setup, or meson configure if
#                                         BUILD_DIR is already set up
#   uvinet_build BUILD_DIR                ninja -C BUILD_DIR -j "$(nproc)"
#
# A relative BUILD_DIR is taken relative to UVINET_ROOT, never to $PWD.
set -euo pipefail

if [[ "${BASH_SOURCE[0]}" == "${0}" ]]; then
    echo "${0}: this is a library: source it from a bash script, do not run it" >&2
    exit 2
fi

# Sourced twice (tools/bench sourcing tools/test's helpers, say)? Nothing to redo.
if [[ -n "${UVINET_SETUP_SH_LOADED:-}" ]]; then
    return 0
fi
UVINET_SETUP_SH_LOADED=1

UVINET_ROOT="$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)"
readonly UVINET_ROOT

# What a fresh Debian 12 machine needs to build, test, demo and bench uvinet.
UVINET_BASE_PACKAGES=(
    meson ninja-build pkg-config g++ clang libclang-rt-14-dev
    libuv1-dev libmbedtls-dev doctest-dev libexpected-dev libfmt-dev
    libcli11-dev zlib1g-dev socat nginx-light tinyproxy ca-certificates openssl
)

uvinet_log() {
    printf '%s\n' "$*" >&2
}

uvinet_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# True if the Debian package named $1 is installed.
uvinet_package_installed() {
    local status
    status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" || return 1
    [[ "${status}" == "install ok installed" ]]
}

# uvinet_install_packages [extra packages...]
uvinet_install_packages() {
    command -v dpkg-query >/dev/null 2>&1 ||
        uvinet_die "dpkg-query not found: uvinet's tools expect Debian 12 (or a derivative)"

    local pkg missing=()
    for pkg in "${UVINET_BASE_PACKAGES[@]}" "$@"; do
        uvinet_package_installed "${pkg}" || missing+=("${pkg}")
    done
    # Fast path: everything is there, apt is not touched.
    if ((${#missing[@]} == 0)); then
        return 0
    fi

    local -a as_root=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 ||
            uvinet_die "missing packages (${missing[*]}) and not root, and sudo is not installed: install them as root with: apt-get install ${missing[*]}"
        as_root=(sudo)
    fi

    uvinet_log "installing: ${missing[*]}"
    "${as_root[@]}" apt-get update ||
        uvinet_die "apt-get update failed"
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}" ||
        uvinet_die "apt-get install failed for: ${missing[*]}"
}

# Absolute path of a build directory; a relative one is under UVINET_ROOT.
uvinet_build_path() {
    [[ -n "${1:-}" ]] || uvinet_die "uvinet_build_path: build directory missing"
    if [[ "$1" == /* ]]; then
        printf '%s\n' "$1"
    else
        printf '%s\n' "${UVINET_ROOT}/$1"
    fi
}

# uvinet_configure BUILD_DIR [meson options...]
uvinet_configure() {
    [[ $# -ge 1 ]] || uvinet_die "usage: uvinet_configure BUILD_DIR [meson options...]"
    local dir
    dir="$(uvinet_build_path "$1")"
    shift

    if [[ -f "${dir}/build.ninja" ]]; then
        # Already set up: only apply the options (cheap when nothing changes).
        # Without options `meson configure` would just print the option table.
        if (($# > 0)); then
            (cd -- "${UVINET_ROOT}" && meson configure "${dir}" "$@") ||
                uvinet_die "meson configure ${dir} $* failed"
        fi
        return 0
    fi

    local -a wipe=()
    # A directory left by a setup that failed half way: set it up afresh.
    if [[ -e "${dir}/meson-private/coredata.dat" ]]; then
        wipe=(--wipe)
    fi
    (cd -- "${UVINET_ROOT}" && meson setup "${wipe[@]}" "$@" "${dir}" "${UVINET_ROOT}") ||
        uvinet_die "meson setup ${dir} failed (see the messages above and ${dir}/meson-logs/meson-log.txt)"
}

# uvinet_build BUILD_DIR
uvinet_build() {
    [[ $# -eq 1 ]] || uvinet_die "usage: uvinet_build BUILD_DIR"
    local dir
    dir="$(uvinet_build_path "$1")"
    ninja -C "${dir}" -j "$(nproc)" ||
        uvinet_die "build failed in ${dir}"
}
