#!/usr/bin/env bash
# Builds the Fiji/ImageJ plugin and runs its two tests against libaimos.so from
# $AIMOS_LIBRARY_DIR if set, else <repo>/.build/release (swift build -c release):
#  (a) AimosSegmenterTest: AimosSegmenter on synthetic stacks vs the C API called directly;
#      PlanePathTest: its plane path (aimos_segment_planes) likewise;
#  (b) the plugin as a user runs it: ImageJ under Xvfb runs test/plugin_test.ijm, which calls
#      run("AIMOS Organ Segmentation", "model=... axis=2") and segments a virtual stack of TIFF
#      planes with the CT model; MacroOutputCheck compares what it saved with the C API.
# Needs: apt-get install imagej libij-java libjna-java xvfb (and a JDK for javac).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build="$root/.build/fiji"
IJ_JAR=${IJ_JAR:-/usr/share/java/ij.jar}
JNA_JAR=${JNA_JAR:-/usr/share/java/jna.jar}
library="${AIMOS_LIBRARY_DIR:-$root/.build/release}/libaimos.so"
test -f "$library" || { echo "no $library: build the library first (swift build -c release)" >&2; exit 2; }
command -v xvfb-run >/dev/null || { echo "xvfb-run missing: apt-get install xvfb" >&2; exit 2; }
model="$root/Tests/AimosCoreTests/Fixtures/unet64_c3_s32_f32.safetensors"
# The virtual-stack case needs organs to find: the bundled CT model on the sample scan.
ct_model="$root/models/aimos-demo.safetensors"
sample_ct="$root/data/sample/sample_ct.nii.gz"

IJ_JAR="$IJ_JAR" JNA_JAR="$JNA_JAR" bash "$here/build.sh" "$build"
rm -rf "$build/test-classes" "$build/ImageJ" "$build/home" "$build/macro-output"
mkdir -p "$build/test-classes"
javac -Xlint:all -Werror -encoding UTF-8 -cp "$build/classes:$IJ_JAR:$JNA_JAR" -d "$build/test-classes" "$here"/test/*.java

# An ImageJ folder laid out as in Fiji: the plugin jar in plugins/, libaimos.so in
# lib/linux64/ (Fiji points jna.library.path there). Plain ImageJ has no JNA: it goes in plugins/jars/.
ij="$build/ImageJ"
mkdir -p "$ij/plugins/jars" "$ij/lib/linux64" "$build/home" "$build/macro-output"
cp "$build/AIMOS_Segmentation.jar" "$ij/plugins/"
cp "$JNA_JAR" "$ij/plugins/jars/"
ln -sf "$library" "$ij/lib/linux64/libaimos.so"
jna_path="-Djna.library.path=$ij/lib/linux64"

echo "== (a) AimosSegmenter vs the C API"
java -Djava.awt.headless=true "$jna_path" -cp "$build/classes:$build/test-classes:$IJ_JAR:$JNA_JAR" \
     AimosSegmenterTest "$model"

echo "== (a) the plane path (aimos_segment_planes) vs the C API"
java -Djava.awt.headless=true "$jna_path" -cp "$build/classes:$build/test-classes:$IJ_JAR:$JNA_JAR" \
     PlanePathTest "$model"

echo "== (b) the plugin under Xvfb: $(basename "$IJ_JAR") -batch test/plugin_test.ijm"
# What Debian's imagej launcher runs (java -cp ij.jar ij.ImageJ -ijpath DIR -batch MACRO ARG), with a
# private ImageJ folder and home (preferences) instead of ~/.imagej. ImageJ 1.x cannot build the
# plugin's GenericDialog without a display (HeadlessException), hence Xvfb.
out="$build/macro-output"
status=0
timeout 300 xvfb-run -a java -Duser.home="$build/home" "$jna_path" -cp "$IJ_JAR:$build/test-classes" \
    ij.ImageJ -ijpath "$ij" -batch "$here/test/plugin_test.ijm" "$out|$model|$ct_model|$sample_ct" > "$out/imagej-stdout.txt" || status=$?
cat "$out/imagej-stdout.txt"
if [ "$status" -ne 0 ]; then
    echo "ImageJ exited with status $status (124: timed out, maybe waiting on a dialog)" >&2
fi
java -Djava.awt.headless=true "$jna_path" -cp "$build/classes:$build/test-classes:$IJ_JAR:$JNA_JAR" \
     MacroOutputCheck "$out" "$model" "$ct_model"
rm -rf "$out/planes"   # the virtual stack's 100 MB of planes, kept only when a check failed
exit "$status"
