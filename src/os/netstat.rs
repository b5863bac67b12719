//! Every TCP and UDP socket with its owning process, through `netstat2`: the socket tables of
//! Windows (`GetExtendedTcpTable` / `GetExtendedUdpTable` with owning pids) and macOS (libproc's
//! `proc_pidfdinfo` socket info). Linux reads netlink and `/proc` itself (`crate::process`).

use crate::packet::Proto;

/// (protocol, local address, local port) → the lowest pid that holds the socket, if any.
pub fn socket_owners() -> anyhow::Result<super::SocketOwners> {
    let socks = netstat2::get_sockets_info(
        netstat2::AddressFamilyFlags::IPV4 | netstat2::AddressFamilyFlags::IPV6,
        netstat2::ProtocolFlags::TCP | netstat2::ProtocolFlags::UDP,
    )?;
    Ok(socks
        .iter()
        .map(|s| {
            let key = match &s.protocol_socket_info {
                netstat2::ProtocolSocketInfo::Tcp(t) => (Proto::Tcp, t.local_addr, t.local_port),
                netstat2::ProtocolSocketInfo::Udp(u) => (Proto::Udp, u.local_addr, u.local_port),
            };
            (key, s.associated_pids.iter().copied().min())
        })
        .collect())
}
