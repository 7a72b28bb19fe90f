// The D-Bus names of the control interface: one place, shared by the daemon's
// service, `etcd-warden ctl`, the bus policy file and the tests. Changing one
// is an incompatible change (the policy in packaging/dbus/ names them too).
#pragma once

namespace etcd_warden::control {

inline constexpr const char* kBusName = "io.etcdwarden.Warden1";
inline constexpr const char* kObjectPath = "/io/etcdwarden/Warden1";
inline constexpr const char* kInterface = "io.etcdwarden.Warden1";

// Errors the methods return (D-Bus error names).
inline constexpr const char* kErrorUnknownJob = "io.etcdwarden.Error.UnknownJob";
inline constexpr const char* kErrorAlreadyRunning = "io.etcdwarden.Error.AlreadyRunning";
inline constexpr const char* kErrorInvalidArgs = "org.freedesktop.DBus.Error.InvalidArgs";
inline constexpr const char* kErrorFailed = "org.freedesktop.DBus.Error.Failed";

}  // namespace etcd_warden::control
