# util/: text buffers shared by every part.
UTIL_OBJS := $(B)/util/strbuf.o
$(B)/libmo-util.a: $(UTIL_OBJS)
	$(AR) rcs $@ $^
