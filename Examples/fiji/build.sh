#!/usr/bin/env bash
# Builds the Fiji/ImageJ plugin jar AIMOS_Segmentation.jar (the "_" makes ImageJ load it).
# Usage: bash Examples/fiji/build.sh [output-dir]   (default <repo>/.build/fiji)
# Compiles against IJ_JAR and JNA_JAR (default: Debian's imagej/libij-java and libjna-java
# packages); for Fiji use e.g. IJ_JAR=Fiji.app/jars/ij-1.54f.jar JNA_JAR=Fiji.app/jars/jna-5.14.0.jar.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/.build/fiji}
IJ_JAR=${IJ_JAR:-/usr/share/java/ij.jar}
JNA_JAR=${JNA_JAR:-/usr/share/java/jna.jar}
command -v javac >/dev/null && command -v jar >/dev/null ||
    { echo "javac/jar missing: apt-get install default-jdk-headless" >&2; exit 2; }
for jar in "$IJ_JAR" "$JNA_JAR"; do
    test -f "$jar" || { echo "missing $jar: apt-get install imagej libij-java libjna-java, or set IJ_JAR/JNA_JAR" >&2; exit 2; }
done

rm -rf "$out/classes"
mkdir -p "$out/classes"
# --release 8: Fiji still runs on Java 8 in places.
javac --release 8 -Xlint:all,-options -Werror -encoding UTF-8 -cp "$IJ_JAR:$JNA_JAR" \
      -d "$out/classes" $(find "$here/src" -name '*.java' | sort)
cp "$here/plugins.config" "$out/classes/"
jar --create --file "$out/AIMOS_Segmentation.jar" -C "$out/classes" .
echo "built $out/AIMOS_Segmentation.jar"
