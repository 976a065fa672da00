#!/usr/bin/env bash
# install.sh: installs a built jrbd on this server (or under --destdir, for packaging and tests).
#
#   /usr/lib/jrbd/bin/{jrbd,jrbdadm,jrbd-java}     launchers (the JVM flags Chronicle needs are in jrbd-java)
#   /usr/lib/jrbd/nbd-server/target/...            the jars
#   /usr/sbin/jrbd, /usr/sbin/jrbdadm              links to the launchers
#   /etc/systemd/system/jrbd.service               the node daemon's unit (not enabled)
#   /etc/jrbd/r0.toml.example                      a commented example resource (nothing is overwritten)
#   /usr/lib/ocf/resource.d/jrbd/jrbd              the Pacemaker resource agent (ocf:jrbd:jrbd)
#   /usr/lib/jrbd/handlers/                        handler scripts (fence-peer for Pacemaker, ...)
#   /usr/share/bash-completion/completions/jrbdadm
#   /usr/share/doc/jrbd/                           the docs
#
# Usage: packaging/install.sh [--destdir DIR] [--no-build]
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
DEST=""
BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
        --destdir) DEST=${2:?--destdir needs a directory}; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

JAR="$REPO/nbd-server/target/jrbd-nbd-server.jar"
if [ ! -f "$JAR" ]; then
    if [ "$BUILD" = 0 ]; then
        echo "install.sh: $JAR is missing and --no-build was given" >&2
        exit 1
    fi
    (cd "$REPO" && mvn -B -q package -DskipTests)
fi

LIB="$DEST/usr/lib/jrbd"
install -d "$LIB/bin" "$LIB/nbd-server/target/lib" "$LIB/handlers" "$DEST/usr/sbin" "$DEST/etc/jrbd" \
    "$DEST/etc/systemd/system" "$DEST/usr/share/doc/jrbd" "$DEST/usr/share/bash-completion/completions"
install -m 0755 "$REPO/bin/jrbd" "$REPO/bin/jrbdadm" "$LIB/bin/"
install -m 0644 "$REPO/bin/jrbd-java" "$LIB/bin/"
install -m 0644 "$JAR" "$LIB/nbd-server/target/"
rm -f "$LIB/nbd-server/target/lib/"*.jar
install -m 0644 "$REPO/nbd-server/target/lib/"*.jar "$LIB/nbd-server/target/lib/"
ln -sfn /usr/lib/jrbd/bin/jrbd "$DEST/usr/sbin/jrbd"
ln -sfn /usr/lib/jrbd/bin/jrbdadm "$DEST/usr/sbin/jrbdadm"
install -m 0644 "$REPO/packaging/jrbd.service" "$DEST/etc/systemd/system/jrbd.service"
install -m 0644 "$REPO/packaging/etc/r0.toml.example" "$DEST/etc/jrbd/r0.toml.example"
chmod 0755 "$DEST/etc/jrbd"
if [ -f "$REPO/ocf/jrbd" ]; then
    install -d "$DEST/usr/lib/ocf/resource.d/jrbd"
    install -m 0755 "$REPO/ocf/jrbd" "$DEST/usr/lib/ocf/resource.d/jrbd/jrbd"
fi
if [ -d "$REPO/packaging/handlers" ]; then
    install -m 0755 "$REPO/packaging/handlers/"* "$LIB/handlers/"
fi
install -m 0644 "$REPO/README.md" "$REPO/docs/"*.md "$DEST/usr/share/doc/jrbd/"
"$LIB/bin/jrbdadm" completion > "$DEST/usr/share/bash-completion/completions/jrbdadm"

echo "jrbd installed${DEST:+ under $DEST}. Next: write /etc/jrbd/<resource>.toml (see r0.toml.example),"
echo "then 'systemctl enable --now jrbd' (or let Pacemaker's ocf:jrbd:jrbd agent run it)."
