#!/bin/sh
# crm-unfence-peer.sh: jrbd's unfence-peer handler for Pacemaker ([handlers] unfence-peer).
#
# jrbd runs it on the resync source once the peer it had fenced is UpToDate again. It removes
# the location constraint crm-fence-peer.sh placed (jrbd-fence-by-handler-RES-CLONE), so that
# Pacemaker may promote the peer again.
#
# Exit codes: 0 removed, or there was none (also: no clone for the resource in the CIB);
# 1 the CIB could not be reached or refused the removal, or the time ran out.
#
# Environment: JRBD_RESOURCE (or DRBD_RESOURCE) as jrbd sets it, and optionally
# JRBD_FENCE_TIMEOUT (seconds, default 30), JRBD_CRM_CLONE (the clone id) and JRBD_FENCE_LOG
# (a file that also gets the log line), as for crm-fence-peer.sh. It logs one line to syslog
# (tag crm-unfence-peer.sh) and stderr.
set -u
PATH=$PATH:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C

prog=crm-unfence-peer.sh
res=${JRBD_RESOURCE:-${DRBD_RESOURCE:-}}
limit=${JRBD_FENCE_TIMEOUT:-30}
case $limit in '' | *[!0-9]*) limit=30 ;; esac
deadline=$(($(date +%s) + limit))

say() {
    line="$prog: ${res:-?}: $*"
    echo "$line" >&2
    logger -t "$prog" -p daemon.warning -- "$line" 2>/dev/null || true
    if [ -n "${JRBD_FENCE_LOG:-}" ]; then
        echo "$(date '+%F %T') $line" >>"$JRBD_FENCE_LOG" 2>/dev/null || true
    fi
}

crm() {
    left=$((deadline - $(date +%s)))
    [ "$left" -gt 0 ] || return 124
    timeout -k 1 "$left" "$@"
}

case $res in
'' | *[!A-Za-z0-9_.-]*)
    say "JRBD_RESOURCE '$res' is missing or not a jrbd resource name; nothing removed"
    exit 1
    ;;
esac

clone=${JRBD_CRM_CLONE:-}
if [ -z "$clone" ]; then
    xp="//*[self::clone or self::master][primitive[@type='jrbd'][instance_attributes/nvpair[@name='resource'][@value='$res']]]"
    found=$(crm cibadmin --query --xpath "$xp" --no-children 2>&1)
    rc=$?
    case $rc in
    0) clone=$(printf '%s\n' "$found" | sed -n 's/.*<\(clone\|master\) [^>]*\bid="\([^"]*\)".*/\2/p' | head -n 1) ;;
    105) say "no clone of an ocf:*:jrbd primitive with resource=$res in the CIB; no constraint to remove"; exit 0 ;;
    124) say "timed out after ${limit}s asking the CIB for the clone; constraint NOT removed"; exit 1 ;;
    *) say "cannot query the CIB (cibadmin exit $rc: $(printf '%s' "$found" | tr '\n' ' ')); constraint NOT removed"; exit 1 ;;
    esac
    if [ -z "$clone" ]; then
        say "cannot read the clone id from the CIB's answer; constraint NOT removed"
        exit 1
    fi
fi

id="jrbd-fence-by-handler-$res-$clone"
while :; do
    had=$(crm cibadmin --query --xpath "//rsc_location[@id='$id']" --no-children 2>&1)
    rc=$?
    case $rc in
    105) say "constraint $id is not there; nothing to remove"; exit 0 ;;
    0)
        out=$(crm cibadmin --delete --xml-text "<rsc_location id=\"$id\"/>" 2>&1)
        rc=$?
        if [ $rc -eq 0 ]; then
            say "constraint $id removed: the Promoted role of $clone may run on any node again"
            exit 0
        fi
        had=$out
        ;;
    esac
    if [ "$(date +%s)" -ge "$deadline" ] || [ $rc -eq 124 ]; then
        say "could not remove constraint $id within ${limit}s (cibadmin exit $rc: $(printf '%s' "$had" | tr '\n' ' ' | cut -c1-200))"
        exit 1
    fi
    sleep 1
done
