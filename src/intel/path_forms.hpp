// Canonical forms of Windows names that indicators and events write differently: registry key
// paths (HKEY_LOCAL_MACHINE\..., HKLM\..., \REGISTRY\MACHINE\...) and file or process names
// (a full path in the event, a bare name in the feed). Both compare case-insensitively, as
// Windows does. Like normalise.hpp, these write into a caller-owned buffer and do not allocate
// once it has grown.
#pragma once

#include <string>
#include <string_view>

namespace yagura::intel {

// Lower-case, hive spelled short (hklm, hkcu, hku, hkcr, hkcc), no trailing backslash.
// "\REGISTRY\MACHINE\Software" and "HKEY_LOCAL_MACHINE\Software" both give "hklm\software";
// "\REGISTRY\USER\S-1-5-21-x\Software" and "HKU\S-1-5-21-x\Software" (how Sysmon writes the
// current user's keys) give "hkcu\software"; other HKU keys keep their SID. False if empty.
bool CanonicalRegistryKey(std::string_view text, std::string& out);

// The last component of a Windows or POSIX path, lower-case: "C:\Windows\System32\CMD.EXE"
// gives "cmd.exe". False if the name is empty.
bool CanonicalFileName(std::string_view text, std::string& out);

// Lower-case copy (ASCII only; other bytes unchanged).
void LowerAscii(std::string_view text, std::string& out);

}  // namespace yagura::intel
