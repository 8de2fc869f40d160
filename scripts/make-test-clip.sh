#!/usr/bin/env bash
# Makes the test clip committed as test/fixtures/clip.webm: 12 s of ffmpeg's testsrc2 pattern
# (a running timer is drawn in it), 320x180 at 24 fps, VP8, no audio. Needs ffmpeg.
set -euo pipefail
cd "$(dirname "$0")/.."
ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=320x180:rate=24:duration=12 \
  -c:v libvpx -b:v 60k -g 24 -an test/fixtures/clip.webm
ls -l test/fixtures/clip.webm
