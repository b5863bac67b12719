# Sourced by the live benches (live-cpu.sh, service.sh, soak.sh): their namespace pair.
# Uses NS_A, NS_B, IF_A, IF_B (and IP_A, IP_B for netns_pair_up) from the caller.

# Kills whatever still runs inside the two namespaces and deletes them (for an EXIT trap).
netns_down() {
    local ns p
    for ns in "$NS_A" "$NS_B"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
        ip netns del "$ns" 2>/dev/null
    done
    return 0
}

# Creates the two namespaces (a leftover pair of the same names is removed first) and one veth
# pair between them, IP_A/24 in A and IP_B/24 in B, MTU 1500, segmentation offloads off (so the
# capture sees wire-sized packets).
netns_pair_up() {
    local ns
    for ns in "$NS_A" "$NS_B"; do
        ip netns del "$ns" 2>/dev/null || true
        ip netns add "$ns"
        ip -n "$ns" link set lo up
    done
    ip link add "$IF_A" netns "$NS_A" mtu 1500 type veth peer name "$IF_B" netns "$NS_B" mtu 1500
    ip -n "$NS_A" addr add "$IP_A/24" dev "$IF_A"
    ip -n "$NS_B" addr add "$IP_B/24" dev "$IF_B"
    ip -n "$NS_A" link set "$IF_A" up
    ip -n "$NS_B" link set "$IF_B" up
    ip netns exec "$NS_A" ethtool -K "$IF_A" tso off gso off gro off >/dev/null
    ip netns exec "$NS_B" ethtool -K "$IF_B" tso off gso off gro off >/dev/null
}
