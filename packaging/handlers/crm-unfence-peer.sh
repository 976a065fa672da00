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
prog=crm-unfence-peer.sh
not_done="constraint NOT removed"
# shellcheck source-path=SCRIPTDIR source=crm-fence-lib.sh
. "$(dirname "$0")/crm-fence-lib.sh"

find_clone 0

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
