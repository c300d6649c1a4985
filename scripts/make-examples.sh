#!/usr/bin/env bash
# Remakes the example recordings in assets/examples/ with espeak-ng and sox
# (what they were made with; see assets/examples/README.md). The pictures
# come from scikit-image's data folder, made smaller:
#   pip download scikit-image --no-deps; unzip skimage/data/{chelsea,coffee,astronaut}.png,rocket.jpg
#   then PIL: thumbnail((384, 384)), save as JPEG quality 82.
set -euo pipefail
cd "$(dirname "$0")/../assets/examples"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
# Slow, with gaps between words and a low pitch: what Whisper tiny.en
# transcribes without a mistake.
espeak-ng -m -v en-us -s 125 -g 10 -p 40 -w "$tmp/en.wav" \
  '<speak>The birch canoe slid on the smooth planks. <break time="600ms"/> Glue the sheet to the dark blue background. <break time="600ms"/> It'"'"'s easy to tell the depth of a well. <break time="600ms"/> These days a chicken leg is a rare dish.</speak>'
sox "$tmp/en.wav" -r 16000 -c 1 -C 5 harvard-en.ogg
espeak-ng -v de -s 130 -w "$tmp/de.wav" \
  "Der Zug nach Berlin fährt um acht Uhr ab. Heute scheint die Sonne, und die Kinder spielen im Garten."
sox "$tmp/de.wav" -r 16000 -c 1 -C 3 bahnhof-de.ogg
