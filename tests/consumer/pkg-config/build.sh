#!/bin/sh
# build.sh OUTPUT: builds the pkg-config consumer the way a Makefile would, with only the
# compiler (CXX, default c++) and `pkg-config charter-verify` (PKG_CONFIG_PATH may point at a
# non-default prefix).
set -eu
cd "$(dirname "$0")"
# shellcheck disable=SC2046 # pkg-config prints several flags, split on purpose
${CXX:-c++} -std=c++17 -Wall -Wextra -Wpedantic -Werror ${CXXFLAGS:-} main.cpp \
    $(pkg-config --cflags --libs charter-verify) ${LDFLAGS:-} -o "$1"
