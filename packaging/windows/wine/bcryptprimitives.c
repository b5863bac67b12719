/* bcryptprimitives.dll for Wine 8 (Debian 12), test runs only: Rust's standard library (1.78+)
 * takes random bytes from ProcessPrng in bcryptprimitives.dll, which Windows 10+ has and Wine
 * gained only in 9.x. This stand-in answers from RtlGenRandom (advapi32's SystemFunction036).
 * `make wine-prefix` builds it into the test prefix's system32; it is never shipped. */
#include <windows.h>
#include <ntsecapi.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!RtlGenRandom(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
