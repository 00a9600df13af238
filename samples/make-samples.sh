#!/usr/bin/env bash
# Regenerates the sample library (a few seconds of synthetic tones and test patterns, made
# by ffmpeg, so the project owns every byte). The files are committed; run this only to change them.
set -euo pipefail
cd "$(dirname "$0")"
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
ff -f lavfi -i "sine=frequency=440:duration=6" -ac 1 -b:a 48k "A440 tone.mp3"
ff -f lavfi -i "sine=frequency=660:duration=6" -ac 1 -c:a aac -b:a 48k "E660 tone.m4a"
ff -f lavfi -i "testsrc2=size=320x180:rate=15:duration=6" -f lavfi -i "sine=frequency=330:duration=6" \
  -c:v libx264 -preset veryfast -crf 32 -pix_fmt yuv420p -c:a aac -b:a 48k -movflags +faststart -shortest "Test pattern.mp4"
printf '1\n00:00:00,500 --> 00:00:05,500\nA test pattern, with subtitles\n' >"Test pattern.en.srt"
mkdir -p Clips
ff -f lavfi -i "testsrc2=size=320x180:rate=15:duration=4" -c:v libvpx-vp9 -b:v 150k -an "Clips/Test pattern (VP9).webm"
