# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# .bpf.c -> .bpf.o -> skeleton -> libkanary -> kanaryctl; `make V=1` shows commands.

OUTPUT   := .output
BIN      := bin
CLANG    ?= clang
BPFTOOL  ?= bpftool
CC       ?= cc
# Asked when a BPF object is built, after the deps step has installed clang
# (a fresh machine has none when make reads this file); clang's own answer,
# since cc may be clang, whose -dumpmachine names no /usr/include directory.
ARCH_INC = /usr/include/$(shell $(CLANG) -print-multiarch)

CFLAGS     ?= -O2 -g
CFLAGS     += -Wall -Wextra -Wno-unused-parameter -std=gnu11 -Iinclude -Iuser/lib -I$(OUTPUT)
BPF_CFLAGS  = -g -O2 -target bpf -Wall -Wno-unused-function -I$(ARCH_INC) -Iinclude -Ibpf
LDLIBS     := -lbpf -lelf -lz -ljansson

BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_HDRS   := $(wildcard bpf/lib/*.h) $(wildcard include/kanary/*.h)
# The datapath's skeletons: libkanary's loader embeds them.
SKELS      := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
LIB_SRCS   := $(wildcard user/lib/*.c)
LIB_OBJS   := $(patsubst user/lib/%.c,$(OUTPUT)/lib/%.o,$(LIB_SRCS))
CTL_SRCS   := $(wildcard user/ctl/*.c)
CTL_OBJS   := $(patsubst user/ctl/%.c,$(OUTPUT)/ctl/%.o,$(CTL_SRCS))
# Tests: tests/README.md.  libkanary's units borrow the BPF suites' fixture.
UNIT_SRCS  := $(wildcard tests/unit/lib/*.c)
UNIT_OBJS  := $(patsubst tests/unit/lib/%.c,$(OUTPUT)/unit/%.o,$(UNIT_SRCS))
BPFT_SRCS  := $(filter-out %.bpf.c,$(wildcard tests/bpf/*.c))
BPFT_HDRS  := $(wildcard tests/bpf/*.h)
BPFT_OBJS  := $(patsubst tests/bpf/%.c,$(OUTPUT)/bpf-test/%.o,$(BPFT_SRCS))
BPFT_FIXTURE := $(filter-out $(OUTPUT)/bpf-test/main.o $(OUTPUT)/bpf-test/test_%.o,$(BPFT_OBJS))
MIR_SRCS   := $(wildcard user/mirror/*.c)
MIR_OBJS   := $(patsubst user/mirror/%.c,$(OUTPUT)/mirror/%.o,$(MIR_SRCS))
KD_SRCS    := $(wildcard user/kanaryd/*.c user/kanaryd/*/*.c)
KD_HDRS    := $(wildcard user/kanaryd/*.h user/kanaryd/*/*.h)
KD_OBJS    := $(patsubst user/kanaryd/%.c,$(OUTPUT)/kanaryd/%.o,$(KD_SRCS))
KD_CORE    := $(filter-out $(OUTPUT)/kanaryd/main.o,$(KD_OBJS))
KDU_SRCS   := $(wildcard tests/unit/kanaryd/*.c)
KDU_OBJS   := $(patsubst tests/unit/kanaryd/%.c,$(OUTPUT)/kanaryd-unit/%.o,$(KDU_SRCS))
KD_LDLIBS  := $(LDLIBS) -lyaml -lcurl -lmicrohttpd -lpthread
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Iuser/lib -Iuser/kanaryd
DEPS_STAMP := $(OUTPUT)/.deps-ok

ifeq ($(V),1)
	Q =
	msg =
else
	Q = @
	msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.PHONY: all deps test demo bench bench-pod-event bench-partial fuzz fuzz-short manifests-check image fresh-check clean
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BIN)/kanaryctl $(BIN)/kanaryd $(BIN)/kanary-mirror $(BIN)/kanary_unit $(BIN)/kanary_mirror_unit $(BIN)/kanary_bpf_test $(BIN)/kanaryd_unit $(BIN)/delayline $(BIN)/kanary_bpf_cost $(BIN)/kanaryd_partial_cost

# Installs what is missing (apt-get).  Every rule that compiles or links has it
# as an order-only prerequisite, so a fresh clone builds in any order, with -j.
deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh | $(OUTPUT)
	$(call msg,DEPS,apt packages)
	$(Q)scripts/deps.sh
	$(Q)touch $@

$(OUTPUT) $(OUTPUT)/lib $(OUTPUT)/ctl $(OUTPUT)/mirror $(OUTPUT)/unit $(OUTPUT)/bpf-test $(OUTPUT)/kanaryd $(OUTPUT)/kanaryd-unit $(BIN):
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(DEPS_STAMP) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Test-only BPF programs, built for the tests that load them.
$(OUTPUT)/%.bpf.o: tests/bpf/%.bpf.c $(BPF_HDRS) $(DEPS_STAMP) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/lib/%.o: user/lib/%.c $(wildcard user/lib/*.h) $(BPF_HDRS) $(SKELS) | $(OUTPUT)/lib $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/libkanary.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@; $(AR) rcs $@ $^

$(OUTPUT)/ctl/%.o: user/ctl/%.c $(wildcard user/ctl/*.h) $(wildcard user/lib/*.h) $(BPF_HDRS) | $(OUTPUT)/ctl $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BIN)/kanaryctl: $(CTL_OBJS) $(OUTPUT)/libkanary.a | $(BIN) $(DEPS_STAMP)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# The mirror relay (docs/mirror.md): its own daemon, beside kanaryd.
$(OUTPUT)/mirror/%.o: user/mirror/%.c $(wildcard user/mirror/*.h) $(wildcard user/lib/*.h) $(BPF_HDRS) | $(OUTPUT)/mirror $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BIN)/kanary-mirror: $(MIR_OBJS) $(OUTPUT)/libkanary.a | $(BIN) $(DEPS_STAMP)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -lhttp_parser -o $@

# The relay's reassembly, framing, comparison and mirror connections, alone (tests/unit/mirror).
$(BIN)/kanary_mirror_unit: tests/unit/mirror/test_relay.c tests/unit/mirror/test_pair.c tests/unit/mirror/test_answer.c tests/unit/mirror/test_send.c user/mirror/reasm.c user/mirror/http.c user/mirror/pair.c user/mirror/answer.c user/mirror/send.c $(wildcard user/mirror/*.h) $(BPF_HDRS) | $(BIN) $(DEPS_STAMP)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) -Iuser/mirror $(filter %.c,$^) $(shell pkg-config --libs check) -lhttp_parser -o $@

$(OUTPUT)/unit/%.o: tests/unit/lib/%.c $(BPFT_HDRS) $(wildcard user/lib/*.h) $(BPF_HDRS) | $(OUTPUT)/unit $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/bpf -c $< -o $@

$(BIN)/kanary_unit: $(UNIT_OBJS) $(BPFT_FIXTURE) $(OUTPUT)/libkanary.a | $(BIN) $(DEPS_STAMP)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) $(shell pkg-config --libs check) -o $@

$(OUTPUT)/bpf-test/%.o: tests/bpf/%.c $(BPFT_HDRS) $(wildcard user/lib/*.h) $(BPF_HDRS) | $(OUTPUT)/bpf-test $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/bpf -c $< -o $@

# The framer's BPF test loads the test-only program.
$(OUTPUT)/bpf-test/test_http_frame.o: $(OUTPUT)/http_match_test.skel.h

$(BIN)/kanary_bpf_test: $(BPFT_OBJS) $(OUTPUT)/libkanary.a | $(BIN) $(DEPS_STAMP)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) $(shell pkg-config --libs check) -o $@

$(OUTPUT)/kanaryd/%.o: user/kanaryd/%.c $(KD_HDRS) $(wildcard user/lib/*.h) $(BPF_HDRS) | $(OUTPUT)/kanaryd $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Iuser/kanaryd -c $< -o $@

$(BIN)/kanaryd: $(KD_OBJS) $(OUTPUT)/libkanary.a | $(BIN) $(DEPS_STAMP)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(KD_LDLIBS) -o $@

$(OUTPUT)/kanaryd-unit/%.o: tests/unit/kanaryd/%.c $(wildcard tests/unit/kanaryd/*.h) $(KD_HDRS) $(wildcard user/lib/*.h) $(BPF_HDRS) | $(OUTPUT)/kanaryd-unit $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iuser/kanaryd -Itests/unit/kanaryd -c $< -o $@

$(BIN)/kanaryd_unit: $(KDU_OBJS) $(KD_CORE) $(OUTPUT)/libkanary.a | $(BIN) $(DEPS_STAMP)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(KD_LDLIBS) $(shell pkg-config --libs check) -o $@

# The e2e tests' delay line (no netem here): holds a pod's packets in an NFQUEUE.
$(BIN)/delayline: tests/lib/delayline.c | $(BIN) $(DEPS_STAMP)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $< $(shell pkg-config --libs libnetfilter_queue) -o $@

# libFuzzer targets (clang, with ASan and UBSan); tests/run-fuzz runs them all.
$(BIN)/fuzz_manifest: tests/fuzz/fuzz_manifest.c $(filter-out user/kanaryd/main.c,$(KD_SRCS)) $(KD_HDRS) $(OUTPUT)/libkanary.a | $(BIN) $(DEPS_STAMP)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_FLAGS) $(filter %.c,$^) $(OUTPUT)/libkanary.a $(KD_LDLIBS) -o $@

# The dark-release matcher: its harness builds rule sets with libkanary's
# rule_cond.c and rule_set.c, sanitized too; http_match_diff runs the corpus
# through the BPF build (tests/bpf/http_match_test.bpf.c).
# The rest of libkanary (what maps.c calls: the slot release) comes from its archive.
HM_SRCS := tests/fuzz/fuzz_case.c tests/fuzz/ref_match.c user/lib/rule_cond.c user/lib/rule_set.c \
	   user/lib/weights.c user/lib/err.c user/lib/maps.c
HM_HDRS := $(wildcard tests/fuzz/*.h) $(wildcard user/lib/*.h) $(BPF_HDRS)

$(BIN)/fuzz_http_match: tests/fuzz/fuzz_http_match.c $(HM_SRCS) $(HM_HDRS) $(OUTPUT)/libkanary.a | $(BIN) $(DEPS_STAMP)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_FLAGS) -fno-sanitize-recover=undefined -Itests/fuzz $(filter %.c,$^) $(OUTPUT)/libkanary.a -lbpf -lelf -lz -o $@

$(BIN)/http_match_diff: tests/fuzz/http_match_diff.c tests/bpf/prog_run.c $(HM_SRCS) $(HM_HDRS) $(BPFT_HDRS) $(OUTPUT)/http_match_test.skel.h $(OUTPUT)/libkanary.a | $(BIN) $(DEPS_STAMP)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/fuzz -Itests/bpf $(filter %.c,$^) $(OUTPUT)/libkanary.a -lbpf -lelf -lz -o $@

# The framer, against its plain reference.
$(BIN)/fuzz_http_frame: tests/fuzz/fuzz_http_frame.c tests/fuzz/ref_frame.c tests/fuzz/ref_frame.h $(BPF_HDRS) | $(BIN) $(DEPS_STAMP)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_FLAGS) -fno-sanitize-recover=undefined -Itests/fuzz $(filter %.c,$^) -o $@

FUZZ_BINS := $(BIN)/fuzz_manifest $(BIN)/fuzz_http_match $(BIN)/fuzz_http_frame $(BIN)/http_match_diff

fuzz: $(FUZZ_BINS)
	$(Q)tests/run-fuzz 120
	$(Q)$(BIN)/http_match_diff --bench

fuzz-short: $(FUZZ_BINS)
	$(Q)tests/run-fuzz 20

# The container image, an OCI archive built with mmdebstrap and podman import
# (scripts/build-image.sh); the e2e-kube suite runs kanaryd from it.
IMAGE := $(OUTPUT)/kanary-image.tar
image: $(IMAGE)
$(IMAGE): $(BIN)/kanaryd $(BIN)/kanaryctl $(BIN)/kanary-mirror $(OUTPUT)/kanary.bpf.o scripts/build-image.sh | $(DEPS_STAMP)
	$(call msg,IMAGE,$@)
	$(Q)scripts/build-image.sh $@

# Needs root: BPF, network namespaces, bpffs.  SUITES="unit cli" runs only
# those (tests/run's names); empty, all of them.
test: all $(FUZZ_BINS) $(IMAGE)
	$(Q)tests/run $(SUITES)

# The README's two commands on a fresh bookworm root (tests/run-fresh); CI
# runs it after make test.
fresh-check: $(DEPS_STAMP)
	$(Q)tests/run-fresh

# The deploy/ manifests parse, and the DaemonSet has what a node needs.
manifests-check: $(DEPS_STAMP)
	$(Q)deploy/check-manifests.py

demo: all
	$(Q)scripts/demo.sh
	$(Q)examples/kanaryd-demo.sh

$(OUTPUT)/bench:
	$(Q)mkdir -p $@

$(OUTPUT)/bench/%.o: bench/%.c $(wildcard bench/*.h) $(wildcard user/lib/*.h) $(BPF_HDRS) $(BPFT_HDRS) $(SKELS) | $(OUTPUT)/bench $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/bpf -c $< -o $@

# It times the datapath with the tests' BPF_PROG_TEST_RUN helper.
$(BIN)/kanary_bpf_cost: $(addprefix $(OUTPUT)/bench/,bpf_cost.o bpf_cost_exchange.o bpf_cost_frame.o bpf_cost_rule.o bpf_cost_timer.o) \
		$(OUTPUT)/bpf-test/prog_run.o $(OUTPUT)/libkanary.a | $(BIN) $(DEPS_STAMP)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# Contenders side by side on the netns cluster; QUICK=1 for a short run.
bench: all $(BIN)/kanary_bpf_cost
	$(Q)bench/run

# One pod event at 10,000 Services and 100,000 pods, alone (make bench runs it too).
bench-pod-event: $(BIN)/kanaryctl $(BIN)/kanaryd | $(DEPS_STAMP)
	$(Q)bench/pod-event $(REPS)

# A pod event's partial desired-state build alone, every API object a set as with --kube.
$(OUTPUT)/bench/partial_cost.o: bench/partial_cost.c $(KD_HDRS) | $(OUTPUT)/bench $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iuser/kanaryd -c $< -o $@

$(BIN)/kanaryd_partial_cost: $(OUTPUT)/bench/partial_cost.o $(KD_CORE) $(OUTPUT)/libkanary.a | $(BIN) $(DEPS_STAMP)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(KD_LDLIBS) -o $@

bench-partial: $(BIN)/kanaryd_partial_cost
	$(Q)$(BIN)/kanaryd_partial_cost $(if $(SIZES),--services $(SIZES)) $(if $(EVENTS),--events $(EVENTS))

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT) $(BIN)
