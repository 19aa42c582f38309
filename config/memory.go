package config

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// fallbackMemoryMB is used where the machine's memory cannot be read (no
// /proc): a conservative figure that still lets small models run.
const fallbackMemoryMB = 4096

// physicalMemoryMB is the memory this process may use: the machine's
// MemTotal, lowered to the cgroup v2 limit when one is set (containers).
func physicalMemoryMB() int {
	mb := memTotalMB("/proc/meminfo")
	if mb <= 0 {
		mb = fallbackMemoryMB
	}
	if lim := cgroupLimitMB("/sys/fs/cgroup/memory.max"); lim > 0 && lim < mb {
		mb = lim
	}
	return mb
}

// memTotalMB reads MemTotal (in kB) from a meminfo file; 0 when unknown.
func memTotalMB(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil || kb <= 0 {
				return 0
			}
			return int(kb >> 10)
		}
	}
	return 0
}

// cgroupLimitMB reads a cgroup v2 memory.max ("max" or bytes); 0 when
// there is no limit or the file is absent.
func cgroupLimitMB(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return int(n >> 20)
}
