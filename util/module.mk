# util/: text buffers, the number parser and integer-keyed maps shared by every part.
UTIL_OBJS := $(B)/util/strbuf.o $(B)/util/parse.o $(B)/util/intmap.o \
             $(B)/util/error.o
$(B)/libmo-util.a: $(UTIL_OBJS)
	$(AR) rcs $@ $^
