# crm-fence-lib.sh: what crm-fence-peer.sh and crm-unfence-peer.sh share; sourced, not run.
# The caller sets `prog` (its name, for the log) and `not_done` (the end of a failure line,
# e.g. "bravo NOT fenced"); this file reads the environment jrbd sets, arms the time limit,
# checks the resource name and defines:
#   say TEXT...        one line to stderr, syslog and $JRBD_FENCE_LOG
#   crm CMD...         a cluster tool run with what is left of the time (124: time is up)
#   find_clone RC      sets `clone`: $JRBD_CRM_CLONE, or the clone (or legacy master) of the
#                      ocf:*:jrbd primitive whose `resource` is $JRBD_RESOURCE; exits RC when
#                      the CIB has none, 1 when the CIB cannot be asked
# shellcheck shell=sh disable=SC2154  # prog and not_done come from the script that sources this

set -u
PATH=$PATH:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C

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

# A resource name goes into XPath and XML: jrbd allows letters, digits, '_', '-', '.'.
case $res in
'' | *[!A-Za-z0-9_.-]*)
    say "JRBD_RESOURCE '$res' is missing or not a jrbd resource name; $not_done"
    exit 1
    ;;
esac

find_clone() {
    clone=${JRBD_CRM_CLONE:-}
    [ -z "$clone" ] || return 0
    xp="//*[self::clone or self::master][primitive[@type='jrbd'][instance_attributes/nvpair[@name='resource'][@value='$res']]]"
    found=$(crm cibadmin --query --xpath "$xp" --no-children 2>&1)
    rc=$?
    case $rc in
    0) clone=$(printf '%s\n' "$found" | sed -n 's/.*<\(clone\|master\) [^>]*\bid="\([^"]*\)".*/\2/p' | head -n 1) ;;
    105) say "no clone of an ocf:*:jrbd primitive with resource=$res in the CIB; $not_done"; exit "$1" ;;
    124) say "timed out after ${limit}s asking the CIB for the clone; $not_done"; exit 1 ;;
    *) say "cannot query the CIB (cibadmin exit $rc: $(printf '%s' "$found" | tr '\n' ' ')); $not_done"; exit 1 ;;
    esac
    if [ -z "$clone" ]; then
        say "cannot read the clone id from the CIB's answer; $not_done"
        exit 1
    fi
}
