// Package runtest runs .eim files through the runtime. It holds only
// tests, kept out of package native so that native's own tests do not
// depend on the runtime and its kernels.
package runtest
