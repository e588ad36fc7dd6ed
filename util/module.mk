# util/: text buffers and the number parser shared by every part.
UTIL_OBJS := $(B)/util/strbuf.o $(B)/util/parse.o
$(B)/libmo-util.a: $(UTIL_OBJS)
	$(AR) rcs $@ $^
