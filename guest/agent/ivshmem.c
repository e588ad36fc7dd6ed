/*
 * guest/agent/ivshmem.c: map qemu's ivshmem-doorbell BARs into the agent.
 *
 * GNU Mach has no PCI driver, so the agent reads PCI configuration space
 * itself through the legacy ports 0xcf8/0xcfc (PCI Local Bus spec 3.0,
 * 3.2.2.3.2, configuration mechanism #1) after asking the kernel for them
 * (i386_io_perm_create/modify). The shared memory is BAR2 of the device
 * 1af4:1110 (qemu docs/specs/ivshmem-spec.rst); the kernel's "mem" device
 * pager maps physical memory, and vm_map of its pager at offset 0 reaches
 * the BAR because device_map already added the BAR offset (GNUMACH.md).
 * BAR0 holds the device's registers, the Doorbell among them
 * (ivshmem-spec.rst, "PCI device registers"): the agent rings the host
 * through it (guest/ring.h).
 */
#include "guest/agent/agent.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc
#define IVSHMEM_VENDOR 0x1af4
#define IVSHMEM_DEVICE 0x1110
#define PCI_BAR0 0x10
#define PCI_BAR2 0x18

static volatile uint32_t *regs;	/* BAR0, once mapped */

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static uint32_t pci_read(uint32_t bus, uint32_t dev, uint32_t reg)
{
	outl(PCI_ADDR, 0x80000000u | bus << 16 | dev << 11 | reg);
	return inl(PCI_DATA);
}

/*
 * Maps SIZE bytes of physical memory at PHYS through the mem device; with
 * DROP, gives up the pager's port afterwards (the mapping keeps its own
 * reference), so that its name is free again for the next port.
 */
static uint32_t map_phys(port_t mem, uint32_t phys, uint32_t size, int drop)
{
	port_t pager;
	uint64_t cell = 0;
	kr_t kr;

	kr = rt_device_map(mem, VM_PROT_READ | VM_PROT_WRITE, phys, size, &pager);
	if (kr)
		rt_fatal("device_map of mem at %x: %x", phys, kr);
	kr = syscall_vm_map(rt_task, &cell, size, 0, 1, pager, 0, 0,
			    VM_PROT_READ | VM_PROT_WRITE,
			    VM_PROT_READ | VM_PROT_WRITE, VM_INHERIT_NONE);
	if (kr)
		rt_fatal("vm_map of the ivshmem pager at %x: %x", phys, kr);
	if (drop)
		syscall_mach_port_deallocate(rt_task, pager);
	return (uint32_t)cell;
}

void ivshmem_ring(void)
{
	regs[MO_BELL_REG / 4] = MO_BELL_HOST_ID << 16 | 0;
}

void *ivshmem_map(uint32_t size)
{
	uint32_t dev, id, bar = 0, hi, bar0, at;
	port_t mem;
	kr_t kr;

	kr = rt_io_perm(PCI_ADDR, PCI_DATA + 3);
	if (kr)
		rt_fatal("i386_io_perm for the PCI ports failed: %x", kr);
	for (dev = 0; dev < 32; dev++) {
		id = pci_read(0, dev, 0);
		if (id == (IVSHMEM_DEVICE << 16 | IVSHMEM_VENDOR))
			break;
	}
	if (dev == 32)
		rt_fatal("no ivshmem device (1af4:1110) on PCI bus 0");
	bar = pci_read(0, dev, PCI_BAR2);
	/* A 64-bit memory BAR (type 2) has its high half in the next one. */
	hi = (bar & 6) == 4 ? pci_read(0, dev, PCI_BAR2 + 4) : 0;
	bar &= ~0xfu;
	if (hi || !bar)
		rt_fatal("ivshmem BAR2 at %x:%x is not below 4 GiB", hi, bar);

	/* BAR0: 256 bytes of 32-bit memory space, in the page that holds it. */
	bar0 = pci_read(0, dev, PCI_BAR0);
	if ((bar0 & 7) != 0 || !(bar0 & ~0xfu))
		rt_fatal("ivshmem BAR0 %x is not 32-bit memory space (not ivshmem-doorbell?)", bar0);
	bar0 &= ~0xfu;

	kr = rt_device_open("mem", 3, &mem);
	if (kr)
		rt_fatal("device_open mem: %x", kr);
	/* Its port goes: the names the kernel gives later stay those of
	 * tests/golden/gnumach-user32.hex, captured before the doorbell. */
	at = map_phys(mem, bar0 & ~(PAGE_SIZE - 1), PAGE_SIZE, 1);
	regs = (volatile uint32_t *)(at + (bar0 & (PAGE_SIZE - 1)));
	at = map_phys(mem, bar, size, 0);
	rt_printf("mo-agent: ivshmem BAR2 %x mapped at %x, doorbell at BAR0 %x\n", bar, at, bar0);
	return (void *)at;
}
