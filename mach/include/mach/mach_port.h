/*
 * mach/mach_port.h: the calls of mach_port.defs, as local calls
 * (libmotrace-mach; glibc has a header of this name on the Hurd).
 */
#ifndef _MACH_MACH_PORT_H
#define _MACH_MACH_PORT_H

#include <mach/message.h>
#include <mach/port.h>
#include <mach/mach_types.h>

#ifdef __cplusplus
extern "C" {
#endif

kern_return_t mach_port_allocate(mach_port_t task, mach_port_right_t right,
				 mach_port_t *name);
kern_return_t mach_port_deallocate(mach_port_t task, mach_port_t name);
kern_return_t mach_port_destroy(mach_port_t task, mach_port_t name);
kern_return_t mach_port_mod_refs(mach_port_t task, mach_port_t name,
				 mach_port_right_t right,
				 mach_port_delta_t delta);
kern_return_t mach_port_get_refs(mach_port_t task, mach_port_t name,
				 mach_port_right_t right,
				 mach_port_urefs_t *refs);
kern_return_t mach_port_type(mach_port_t task, mach_port_t name,
			     mach_port_type_t *ptype);
kern_return_t mach_port_move_member(mach_port_t task, mach_port_t member,
				    mach_port_t after);
kern_return_t mach_port_insert_right(mach_port_t task, mach_port_t name,
				     mach_port_t poly,
				     mach_msg_type_name_t polyPoly);
kern_return_t mach_port_request_notification(mach_port_t task,
					     mach_port_t name,
					     mach_msg_id_t variant,
					     mach_port_mscount_t sync,
					     mach_port_t notify,
					     mach_msg_type_name_t notifyPoly,
					     mach_port_t *previous);
kern_return_t mach_port_set_qlimit(mach_port_t task, mach_port_t name,
				   mach_port_msgcount_t qlimit);
kern_return_t mach_port_set_mscount(mach_port_t task, mach_port_t name,
				    mach_port_mscount_t mscount);

/* Receive status and protected payloads (mach/port.c). */
kern_return_t mach_port_get_receive_status(mach_port_t task, mach_port_t name,
					   mach_port_status_t *status);
kern_return_t mach_port_set_protected_payload(mach_port_t task,
					      mach_port_t name,
					      unsigned long payload);
kern_return_t mach_port_clear_protected_payload(mach_port_t task,
						mach_port_t name);

/* GNU Mach's ipc/mach_port.c semantics; arrays come back in fresh pages
 * (vm_deallocate them). */
kern_return_t mach_port_names(mach_port_t task, mach_port_name_array_t *names,
			      mach_msg_type_number_t *namesCnt,
			      mach_port_type_array_t *types,
			      mach_msg_type_number_t *typesCnt);
kern_return_t mach_port_rename(mach_port_t task, mach_port_t old_name,
			       mach_port_t new_name);
kern_return_t mach_port_allocate_name(mach_port_t task, mach_port_right_t right,
				      mach_port_t name);
kern_return_t mach_port_get_set_status(mach_port_t task, mach_port_t name,
				       mach_port_name_array_t *members,
				       mach_msg_type_number_t *membersCnt);
kern_return_t mach_port_extract_right(mach_port_t task, mach_port_t name,
				      mach_msg_type_name_t msgt_name,
				      mach_port_t *poly,
				      mach_msg_type_name_t *polyPoly);
kern_return_t mach_port_set_seqno(mach_port_t task, mach_port_t name,
				  mach_port_seqno_t seqno);

#ifdef __cplusplus
}
#endif

#endif
