#!/bin/sh
# crm-fence-peer.sh: jrbd's fence-peer handler for Pacemaker ([handlers] fence-peer).
#
# jrbd runs it on a Primary that lost its peer while [disk] fencing is resource-only or
# resource-and-stonith. It keeps the peer from being promoted by Pacemaker: it adds to the CIB
# a location constraint that lets the Promoted role of the resource's clone run on this node
# only:
#
#   <rsc_location id="jrbd-fence-by-handler-RES-CLONE" rsc="CLONE">
#     <rule role="Promoted" score="-INFINITY">
#       <expression attribute="#uname" operation="ne" value="THIS NODE"/>
#     </rule>
#   </rsc_location>
#
# crm-unfence-peer.sh removes it again once the peer is UpToDate.
#
# The clone is the clone (or legacy master) of the ocf:*:jrbd primitive whose `resource`
# parameter is $JRBD_RESOURCE. The jrbd node names are taken to be the Pacemaker node names,
# as DRBD's handlers assume.
#
# Exit codes (DRBD's fence-peer convention, read by the jrbd daemon):
#   4  the constraint is in place (new or already there): the peer counts as Outdated
#   7  the constraint is in place and crm_mon knows the peer node is down: offline, clean and
#      not expected up (it shut down, or STONITH fenced it), so it cannot be Primary either
#   1  failure: no CIB to talk to, this node is not an online member of a cluster with a DC,
#      no clone for the resource, the cluster has already promoted the peer (then this node's
#      data is the stale one), the CIB refused the update, or the time ran out. With
#      resource-and-stonith, application I/O stays suspended until the handler succeeds or
#      `jrbdadm resume-io`.
# The handler never answers 5 (peer unreachable): an unreachable peer is exactly the one the
# constraint is for, and jrbd treats 5 as a failure under resource-and-stonith.
#
# Environment: JRBD_RESOURCE, JRBD_PEER, JRBD_NODE_NAME (DRBD_RESOURCE, DRBD_PEER also work)
# as jrbd sets them, and optionally:
#   JRBD_FENCE_TIMEOUT  seconds the whole handler may take (default 30; keep it below
#                       [handlers] handler-timeout, 60 s by default)
#   JRBD_CRM_CLONE      the clone id, instead of finding it in the CIB
#   JRBD_FENCE_LOG      a file that also gets the log line
# It logs one line to syslog (tag crm-fence-peer.sh) and stderr.
prog=crm-fence-peer.sh
peer=${JRBD_PEER:-${DRBD_PEER:-}}
not_done="${peer:-the peer} NOT fenced"
# shellcheck source-path=SCRIPTDIR source=crm-fence-lib.sh
. "$(dirname "$0")/crm-fence-lib.sh"

case $peer in
'' | *[!A-Za-z0-9_.-]*)
    say "JRBD_PEER '$peer' is missing or not a node name; nothing fenced"
    exit 1
    ;;
esac

# This node's name in the cluster (#uname); jrbd's name if the cluster cannot say.
me=$(crm crm_node -n 2>/dev/null) || me=""
[ -n "$me" ] || me=${JRBD_NODE_NAME:-}
if [ -z "$me" ]; then
    say "cannot learn this node's cluster name (crm_node -n failed, JRBD_NODE_NAME unset); $peer NOT fenced"
    exit 1
fi

# The clone of the jrbd primitive for this resource.
find_clone 1

id="jrbd-fence-by-handler-$res-$clone"
constraint() { # ROLE: the constraint's XML
    printf '<rsc_location id="%s" rsc="%s"><rule id="%s-rule" role="%s" score="-INFINITY">' "$id" "$clone" "$id" "$1"
    printf '<expression id="%s-expr" attribute="#uname" operation="ne" value="%s"/></rule></rsc_location>' "$id" "$me"
}

# promoted_on: the nodes where crm_mon's XML (stdin) shows the clone Promoted, one a line.
promoted_on() {
    awk -v clone="$clone" '
        /<clone / { inclone = index($0, "id=\"" clone "\"") > 0 }
        /<\/clone>/ { inclone = 0 }
        inclone && /<resource / { promoted = index($0, "role=\"Promoted\"") > 0 || index($0, "role=\"Master\"") > 0 }
        inclone && promoted && /<node / && match($0, /name="[^"]*"/) { print substr($0, RSTART + 6, RLENGTH - 7) }'
}

# Write only as a member of a cluster partition that has a DC: a node whose Pacemaker is
# still joining would write into its own copy of the CIB, and that copy could win the join.
while :; do
    mon=$(crm crm_mon -1 --output-as=xml 2>/dev/null) || mon=""
    if printf '%s\n' "$mon" | grep -q '<current_dc present="true"' &&
        printf '%s\n' "$mon" | grep "<node name=\"$me\" .*online=" | grep -q 'online="true"'; then
        break
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
        say "this node ($me) is not an online member of a cluster with a DC within ${limit}s; $peer NOT fenced"
        exit 1
    fi
    sleep 1
done

# If the cluster has already promoted the peer, this node is the one whose data is old (it was
# cut off, and the cluster failed over): a constraint for it would demote the peer's newer data.
if printf '%s\n' "$mon" | promoted_on | grep -qx "$peer"; then
    say "the cluster has $clone Promoted on $peer: this node's data is not the one to protect; $peer NOT fenced"
    exit 1
fi

# Add it; if one is there already, keep it when it names this node, else replace it. The CIB
# may be busy (an election, a joining node): retry until the deadline.
placed=""
while [ -z "$placed" ]; do
    # role="Promoted" needs CIB schema pacemaker-3.7 or later; older CIBs spell it Master.
    for role in Promoted Master; do
        out=$(crm cibadmin --create --scope constraints --xml-text "$(constraint "$role")" 2>&1)
        rc=$?
        case $rc in
        0) placed="added"; break ;;
        108) # the id exists
            have=$(crm cibadmin --query --xpath "//rsc_location[@id='$id']//expression[@attribute='#uname']" 2>/dev/null)
            if printf '%s' "$have" | grep -q "value=\"$me\""; then
                placed="already in place"
                break
            fi
            if crm cibadmin --replace --scope constraints --xml-text "$(constraint "$role")" >/dev/null 2>&1; then
                placed="replaced (it named another node)"
                break
            fi
            ;;
        124) break ;;
        esac
        # a schema error: try the old role name; anything else: retry both after a pause
        printf '%s' "$out" | grep -qi 'schema\|validat\|does not conform' || break
    done
    [ -n "$placed" ] && break
    if [ "$(date +%s)" -ge "$deadline" ]; then
        say "could not place constraint $id (last cibadmin exit $rc: $(printf '%s' "$out" | tr '\n' ' ' | cut -c1-200)) within ${limit}s; $peer NOT fenced"
        exit 1
    fi
    sleep 1
done

# Is the peer known to be down? crm_mon's node entry: offline, clean, and not expected up
# (it shut down, or it was fenced). A node that was lost without fencing stays expected up.
code=4
state="state unknown to crm_mon"
mon=$(crm crm_mon -1 --output-as=xml 2>/dev/null) || mon=""
node=$(printf '%s\n' "$mon" | grep "<node name=\"$peer\" .*online=" | head -n 1)
if [ -n "$node" ]; then
    case $node in
    *'online="true"'*) state="online in the cluster" ;;
    *'unclean="true"'*) state="lost, UNCLEAN (not fenced)" ;;
    *'expected_up="true"'*) state="lost (offline, not fenced)" ;;
    *'online="false"'*) code=7 state="down (shut down or fenced)" ;;
    esac
fi
say "constraint $id $placed: Promoted only on $me; peer $state; exit $code"
exit $code
