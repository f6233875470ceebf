/*
 * JobRelay's run protocol: claim, lease, outbox (pending starts and the sweep) and the watch of started jobs.
 * See spec/README.md for what is modelled, what is abstracted, the bounds and how spec/check runs it.
 *
 * Two claim keys share one store:
 *   key 0 (DELIVERY) a webhook delivery that starts job J on a watched platform (Keboola, TheEye);
 *   key 1 (CHAIN)    ChainEventKey(platform, J, follower F): the follower F that J's end starts.
 * Two instances each run a worker (deliveries and platform notifications), a sweep and a watch. Faults come from one
 * budget (MAXF): a crash of any process at any step, a lease that expires under a live holder, a platform answer other
 * than "accepted", a secret that cannot be read, a pending deadline, a failed or 404 status read, the watch horizon,
 * and an OS crash that loses SQLite's unsynced commits (and every process with them).
 *
 * Each transition of the shared table (docs: the run protocol's transition names) is an inline of the same name,
 * with its header on the line before; tests/JobRelay.Tests/Architecture/ProtocolModelTests.cs reads those headers.
 * The old rules of the five defects the follow-through issue lists come back with -DOLD_VERSION_REUSE,
 * -DOLD_THEEYE_ENDED_RELEASE, -DOLD_NORMAL_SYNC, -DOLD_TABLES_INDEX and -DOLD_SECRET_REFUSE.
 */

#ifndef MAXF
#define MAXF 3          /* faults in one run, of every kind together */
#endif
#ifndef MAXDEL
#define MAXDEL 3        /* deliveries of key 0: the first and its redeliveries */
#endif
#ifndef MAXNOTE
#define MAXNOTE 1       /* platform notifications of J's end (each goes through the chain processor) */
#endif
#ifndef SWEEPS
#define SWEEPS 2        /* instances running the sweep (1 or 2) */
#endif
#ifndef WATCHERS
#define WATCHERS 2      /* instances running the watch (0 to 2; 0 checks the start protocol alone) */
#endif
#ifndef MAXPOLL
#define MAXPOLL 1       /* status reads that find J still running before it ends */
#endif

/* The store flavour: SQLite (one row per run, index inside the row; commits not marked durable can be lost to an OS
 * crash), Azure Tables (index rows written apart from the run row; no OS crash), or, by default, both weaknesses. */
#ifdef STORE_SQLITE
#define OS_CRASH 1
#define INDEX_IN_ROW 1
#endif
#ifdef STORE_TABLES
#undef OS_CRASH
#endif
#if !defined(STORE_SQLITE) && !defined(STORE_TABLES)
#define OS_CRASH 1
#endif

#define DELIVERY 0
#define CHAIN 1

/* RunState, plus Absent (no row) */
#define ABSENT 0
#define CLAIMED 1
#define STARTING 2
#define PENDING 3
#define STARTED 4
#define UNKNOWN 5
#define REFUSED 6
#define IGNORED 7

/* WatchState */
#define W_NONE 0
#define WATCHING 1
#define W_ENDED 2
#define W_LOST 3
#define W_ABANDONED 4

/* the watch lease */
#define WL_FREE 0
#define WL_HELD 1
#define WL_EXPIRED 2

/* what a process learnt: the platform's answer to a start, or to a status read */
#define A_NONE 0
#define A_OK 1          /* accepted: a job was created */
#define A_4XX 2         /* refused: no job */
#define A_ENDED 3       /* TheEye: 200 with a job that already ended (a job was created) */
#define A_LOST 4        /* accepted, the answer lost (timeout after send, 5xx, drop) */
#define A_DOWN 5        /* unavailable: provably not received */
#define A_SECRET 6      /* the platform's secret could not be read: nothing was sent */
#define A_DEADLINE 7    /* the pending start's deadline passed */
#define R_RUNNING 8
#define R_FINAL 9
#define R_FAILED 10     /* 5xx, 429, timeout, Key Vault down */
#define R_GONE 11       /* 404, repeatedly */
#define R_HORIZON 12

/* ---- the store: one row per key ---- */
byte st[2];             /* RunState, ABSENT when there is no row */
byte rid[2];            /* row identity: a fresh run id (GUID, ETag) per inserted row */
byte ver[2];            /* version, 1 for a new row */
bool lexp[2];           /* the claim's (or call's) lease has expired */
byte idx[2];            /* Azure Tables: bit (rid - 1) set when that run's index rows exist */
byte wst;               /* key 0's WatchState */
byte wl;                /* key 0's watch lease */

/* ---- SQLite durability: the last synced image of the rows; an OS crash returns to it ---- */
byte dst[2], drid[2], dver[2], dwst, dwl;
bool dirty;             /* a commit not marked durable since the last synced one */

/* ---- ghosts: the platform, the environment and the properties' bookkeeping ---- */
byte jobs[2];           /* jobs the platform created for the key */
bool jend;              /* J (key 0's job) has ended on the platform */
byte polls;             /* status reads that found J running */
byte owner[2];          /* _pid of the process holding the key's lease and remembering it; 0: none alive */
byte wowner;            /* _pid of the process holding the watch lease */
byte nrid[2];           /* row identities handed out per key */
byte budget = MAXF;
byte del;               /* deliveries of key 0 taken */
byte note;              /* notifications of J's end taken */
byte boot;              /* bumped by an OS crash: every process restarts */
bool filtered;          /* key 0's delivery starts no job (the trigger's filter) */

#define BIT(r) (1 << ((r) - 1))
#define INDEXED(k) ((idx[k] & BIT(rid[k])) != 0)

/* ---- compare-and-set: key, row identity and version (the fixed rule); the old SQLite rule matched the version alone */
#ifdef OLD_VERSION_REUSE
#define SAME(k) (st[k] != ABSENT && ver[k] == cver)
#define SAME_FROM(k, s) (ver[k] == cver)
#else
#define SAME(k) (st[k] != ABSENT && rid[k] == crid && ver[k] == cver)
#define SAME_FROM(k, s) (SAME(k) && st[k] == s)
#endif
#define WSAME (st[DELIVERY] == STARTED && rid[DELIVERY] == wrid && ver[DELIVERY] == wver)

/* ---- commits: SYNCED is durable when it returns; NORMAL may be lost to an OS crash with every later one */
#ifdef OS_CRASH
#define SYNCED dst[0] = st[0]; drid[0] = rid[0]; dver[0] = ver[0]; dst[1] = st[1]; drid[1] = rid[1]; dver[1] = ver[1]; \
               dwst = wst; dwl = wl; dirty = false
#define NORMAL dirty = true
#else
#define SYNCED skip
#define NORMAL skip
#endif
#ifdef OLD_NORMAL_SYNC
#define STARTING_WRITE NORMAL
#else
#define STARTING_WRITE SYNCED
#endif

#define FAULT (budget > 0)
#define TAKE_FAULT budget--

/* a process's memory: what it read, the lease it holds, the answer it got */
#define LOCALS byte k, crid, cver, cst, ans, wrid, wver, myboot; bool ok, cexp, waits, busy
#define RESET_CLAIM k = 0; crid = 0; cver = 0; cst = 0; ans = 0; ok = false; cexp = false; waits = false
#define RESET_ALL RESET_CLAIM; busy = false; wrid = 0; wver = 0

/* a crash: the process forgets everything (its leases then expire on their own) and starts again */
#define FORGET if :: owner[0] == _pid -> owner[0] = 0 :: else fi; \
               if :: owner[1] == _pid -> owner[1] = 0 :: else fi; \
               if :: wowner == _pid -> wowner = 0 :: else fi
#define CRASH atomic { FAULT -> TAKE_FAULT; FORGET }; goto top

/* ======================= the transitions (one inline each, named as in the table) ======================= */

/* @transition Claim: Absent -> Claimed */
inline Claim() {
  if
  :: st[k] == ABSENT ->
     nrid[k]++; rid[k] = nrid[k]; ver[k] = 1; st[k] = CLAIMED; lexp[k] = false; owner[k] = _pid;
     crid = rid[k]; cver = 1; cst = CLAIMED; ok = true;
#ifdef INDEX_IN_ROW
     idx[k] = idx[k] | BIT(crid);
#endif
     NORMAL
  :: else -> ok = false
  fi
}

/* @transition ClaimIgnored: Absent -> Ignored */
inline ClaimIgnored() {
  if
  :: st[k] == ABSENT ->
     nrid[k]++; rid[k] = nrid[k]; ver[k] = 1; st[k] = IGNORED; lexp[k] = false;
     crid = rid[k]; cver = 1; cst = IGNORED; ok = true;
     NORMAL
  :: else -> ok = false
  fi
}

/* @transition TakeOver: Claimed -> Claimed */
inline TakeOver() {
  atomic {
    if
    :: SAME_FROM(k, CLAIMED) -> ver[k]++; cver = ver[k]; st[k] = CLAIMED; lexp[k] = false; owner[k] = _pid; ok = true; NORMAL
    :: else -> ok = false
    fi
  }
}

/* @transition TakePending: Pending -> Claimed */
inline TakePending() {
  atomic {
    if
    :: SAME_FROM(k, PENDING) -> ver[k]++; cver = ver[k]; st[k] = CLAIMED; lexp[k] = false; owner[k] = _pid; ok = true; NORMAL
    :: else -> ok = false
    fi
  }
}

/* @transition BeginStart: Claimed -> Starting */
inline BeginStart() {
  atomic {
    if
    :: SAME(k) && st[k] == CLAIMED ->
       ver[k]++; cver = ver[k]; st[k] = STARTING; lexp[k] = false; owner[k] = _pid; ok = true; STARTING_WRITE
    :: else -> ok = false
    fi
  }
}

/* @watch-transition Watch: None -> Watching */
inline Watch() {
  wst = WATCHING; wl = WL_FREE
}

/* @transition Start: Starting -> Started */
inline Start() {
  atomic {
    if
    :: SAME(k) && st[k] == STARTING ->
       ver[k]++; st[k] = STARTED; owner[k] = 0;
       if :: k == DELIVERY -> Watch() :: else fi;
       NORMAL;
       assert(INDEXED(k))          /* findable: a started run is found by its run id and its job id */
    :: else
    fi
  }
}

/* @transition KeepPending: Claimed|Starting -> Pending */
inline KeepPending() {
  atomic {
    if
    :: SAME(k) && (st[k] == CLAIMED || st[k] == STARTING) -> ver[k]++; st[k] = PENDING; owner[k] = 0; SYNCED
    :: else
    fi
  }
}

/* @transition Refuse: Claimed|Starting -> Refused */
inline Refuse() {
  atomic {
    if
    :: SAME(k) && (st[k] == CLAIMED || st[k] == STARTING) ->
       assert(ans == A_4XX || ans == A_ENDED || ans == A_DEADLINE);   /* never lost: refused only on the platform's word, or its deadline */
       ver[k]++; st[k] = REFUSED; owner[k] = 0; NORMAL
    :: else
    fi
  }
}

/* @transition Unknown: Starting -> OutcomeUnknown */
inline Unknown() {
  atomic {
    if
    :: SAME(k) && st[k] == STARTING -> ver[k]++; st[k] = UNKNOWN; owner[k] = 0; NORMAL
    :: else
    fi
  }
}

/* @transition Release: Claimed|Starting -> Absent */
inline Release() {
  atomic {
    if
    :: SAME(k) && (st[k] == CLAIMED || st[k] == STARTING) ->
       assert(ans == A_4XX || ans == A_ENDED);   /* never lost: given back to the sender only on the platform's word */
       st[k] = ABSENT; rid[k] = 0; ver[k] = 0; lexp[k] = false; owner[k] = 0; NORMAL
    :: else
    fi
  }
}

/* @transition ExpireStart: Starting -> OutcomeUnknown */
inline ExpireStart() {
  atomic {
    if
    :: SAME(k) && st[k] == STARTING -> ver[k]++; st[k] = UNKNOWN; owner[k] = 0; ok = true; NORMAL
    :: else -> ok = false
    fi
  }
}

/* @watch-transition WatchTake: Watching -> Watching */
inline WatchTake() {
  atomic {
    if
    :: WSAME && wst == WATCHING && wl != WL_HELD -> ver[DELIVERY]++; wver = ver[DELIVERY]; wl = WL_HELD; wowner = _pid; ok = true; NORMAL
    :: else -> ok = false
    fi
  }
}

/* @watch-transition WatchReschedule: Watching -> Watching */
inline WatchReschedule() {
  atomic {
    if
    :: WSAME && wst == WATCHING -> ver[DELIVERY]++; wl = WL_FREE; wowner = 0; NORMAL
    :: else
    fi
  }
}

/* @watch-transition WatchEnd: Watching -> Ended */
inline WatchEnd() {
  atomic {
    if
    :: WSAME && wst == WATCHING -> ver[DELIVERY]++; wst = W_ENDED; wl = WL_FREE; wowner = 0; NORMAL
    :: else
    fi
  }
}

/* @watch-transition WatchLost: Watching -> Lost */
inline WatchLost() {
  atomic {
    if
    :: WSAME && wst == WATCHING -> ver[DELIVERY]++; wst = W_LOST; wl = WL_FREE; wowner = 0; NORMAL
    :: else
    fi
  }
}

/* @watch-transition WatchAbandon: Watching -> Abandoned */
inline WatchAbandon() {
  atomic {
    if
    :: WSAME && wst == WATCHING -> ver[DELIVERY]++; wst = W_ABANDONED; wl = WL_FREE; wowner = 0; NORMAL
    :: else
    fi
  }
}

/* ======================= the runner: what each instance does with a claim ======================= */

/* Azure Tables: the run's index rows, upserted apart from its row (SQLite keeps them in the row) */
inline IndexRows() {
#ifndef INDEX_IN_ROW
  if
  :: atomic { idx[k] = idx[k] | BIT(crid) }
  :: CRASH
  fi
#else
  skip
#endif
}

/* the watch ends only once the follower's start is decided: one in flight elsewhere may still be released (a
 * notification's refused start frees its key), and then no one would record it. -DWATCH_ENDS_IN_FLIGHT drops the rule
 * to show the liveness property catches it. */
#ifdef WATCH_ENDS_IN_FLIGHT
#define FOLLOWER_BUSY false
#else
#define FOLLOWER_BUSY busy
#endif

/* the fixed rule: whoever settles a run as started makes its index rows exist first */
#if defined(OLD_TABLES_INDEX) || defined(INDEX_IN_ROW)
#define INDEX_BEFORE_START skip
#else
#define INDEX_BEFORE_START IndexRows()
#endif

/* The platform's answer to a POST. While faults remain it may refuse, end the job at once, lose the answer or be
 * down; after that it accepts. */
inline Post() {
  atomic {
    if
    :: ans = A_OK; jobs[k]++
    :: FAULT -> TAKE_FAULT; ans = A_4XX
    :: FAULT -> TAKE_FAULT; ans = A_ENDED; jobs[k]++; if :: k == DELIVERY -> jend = true :: else fi
    :: FAULT -> TAKE_FAULT; ans = A_LOST; jobs[k]++
    :: FAULT -> TAKE_FAULT; ans = A_DOWN
    fi;
    if
    :: k == DELIVERY -> assert(jobs[0] <= 1)   /* at most one platform-accepted start per key */
    :: else -> assert(jobs[1] <= 1)            /* at most one follower start per job end */
    fi
  }
}

#ifdef OLD_THEEYE_ENDED_RELEASE
#define STARTS (ans == A_OK)
#define GIVES_UP (ans == A_4XX || ans == A_ENDED)
#else
#define STARTS (ans == A_OK || ans == A_ENDED)
#define GIVES_UP (ans == A_4XX)
#endif
#ifdef OLD_SECRET_REFUSE
#define WAITS_PENDING (ans == A_DOWN)
#define SECRET_GIVES_UP (ans == A_SECRET)
#else
#define WAITS_PENDING (ans == A_DOWN || ans == A_SECRET)
#define SECRET_GIVES_UP false
#endif

/* The lease holder of a Claimed row starts the job: BeginStart (durable), the secret, the POST, the settle. A refused
 * start is released when the sender waits and may send again (a delivery, a chain event), refused otherwise. */
inline StartClaimed() {
  if
  :: BeginStart()
  :: CRASH
  fi;
  if
  :: ok ->
     if
     :: atomic { FAULT -> TAKE_FAULT; ans = A_SECRET }
     :: Post()
     :: CRASH
     fi;
     if
     :: STARTS -> INDEX_BEFORE_START;
        if
        :: atomic { Start(); RESET_CLAIM }
        :: CRASH
        fi
     :: GIVES_UP || SECRET_GIVES_UP ->
        if
        :: atomic { waits -> Release(); RESET_CLAIM }
        :: atomic { !waits -> Refuse(); RESET_CLAIM }
        :: CRASH
        fi
     :: ans == A_LOST ->
        if
        :: atomic { Unknown(); RESET_CLAIM }
        :: CRASH
        fi
     :: WAITS_PENDING ->
        if
        :: atomic { KeepPending(); RESET_CLAIM }
        :: CRASH
        fi
     fi
  :: else -> atomic { RESET_CLAIM }    /* another instance took the claim over: its answer is this one's */
  fi
}

/* StartOnce: claim the key (insert-if-absent, or take over an expired claim, or settle an expired start as unknown)
 * and start the job, or answer with the run found (in flight or settled). */
inline StartOnce() {
  do
  :: atomic {
       if
       :: st[k] == ABSENT ->
          if
          :: k == DELIVERY && filtered -> ClaimIgnored()
          :: else -> Claim()
          fi
       :: else -> ok = false; cst = st[k]; crid = rid[k]; cver = ver[k]; cexp = lexp[k]
       fi
     };
     if
     :: ok && cst == CLAIMED -> IndexRows(); StartClaimed(); break
     :: ok && cst == IGNORED -> atomic { RESET_CLAIM }; break
     :: !ok && cst == CLAIMED && cexp ->
        if
        :: TakeOver();
           if
           :: ok -> StartClaimed(); break
           :: else                         /* lost the race: read again */
           fi
        :: CRASH
        fi
     :: !ok && cst == STARTING && cexp ->
        if
        :: ExpireStart();
           if
           :: ok -> atomic { RESET_CLAIM }; break
           :: else
           fi
        :: CRASH
        fi
     :: else -> atomic { busy = (k == CHAIN && !waits && (cst == CLAIMED || cst == STARTING)); RESET_CLAIM }; break   /* in flight elsewhere, or settled: answer with it (the watch notes one in flight) */
     fi
  :: CRASH
  od
}

/* ======================= the roles ======================= */

/* An instance's request handling: deliveries of key 0 (the sender resends up to MAXDEL times, or stops), and the
 * platform's notifications of J's end, which go through the chain processor (key 1). */
proctype Worker(byte instance) {
  LOCALS;
top:
  atomic { myboot = boot; RESET_ALL };
  {
end:
    do
    :: atomic { del < MAXDEL -> del++; k = DELIVERY; waits = true }; StartOnce()
    :: atomic { del < MAXDEL -> del = MAXDEL }                         /* the sender sends no more */
    :: atomic { note < MAXNOTE && jend && jobs[DELIVERY] > 0 -> note++; k = CHAIN; waits = true }; StartOnce()
    od
  } unless { boot != myboot -> goto top }
}

/* The sweep: due pending starts, claims whose lease expired, starts whose call lease expired. */
proctype Sweep(byte instance) {
  LOCALS;
top:
  atomic { myboot = boot; RESET_ALL };
  {
end:
    do
    :: atomic { cst == ABSENT && (st[0] == PENDING || ((st[0] == CLAIMED || st[0] == STARTING) && lexp[0])) ->
                k = 0; cst = st[0]; crid = rid[0]; cver = ver[0] }
    :: atomic { cst == ABSENT && (st[1] == PENDING || ((st[1] == CLAIMED || st[1] == STARTING) && lexp[1])) ->
                k = 1; cst = st[1]; crid = rid[1]; cver = ver[1] }
    :: cst == PENDING ->
       if
       :: TakePending();
          if
          :: ok ->
             if
             :: atomic { FAULT -> TAKE_FAULT; ans = A_DEADLINE; Refuse(); RESET_CLAIM }
             :: StartClaimed()
             :: CRASH
             fi
          :: else -> atomic { RESET_CLAIM }
          fi
       :: CRASH
       fi
    :: cst == CLAIMED ->
       if
       :: TakeOver();
          if
          :: ok -> StartClaimed()
          :: else -> atomic { RESET_CLAIM }
          fi
       :: CRASH
       fi
    :: cst == STARTING ->
       if
       :: atomic { ExpireStart(); RESET_CLAIM }
       :: CRASH
       fi
    od
  } unless { boot != myboot -> goto top }
}

/* The watch: a due watch is taken under a watch lease, J's status read once; a final state goes through the chain
 * processor (ChainEventKey, key 1) before the watch ends. */
proctype Watcher(byte instance) {
  LOCALS;
top:
  atomic { myboot = boot; RESET_ALL };
  {
end:
    do
    :: atomic { wrid == 0 && st[DELIVERY] == STARTED && wst == WATCHING && wl != WL_HELD -> wrid = rid[DELIVERY]; wver = ver[DELIVERY] }
    :: wrid != 0 ->
       if
       :: WatchTake()
       :: CRASH
       fi;
       if
       :: ok ->
          atomic {
            if
            :: jend -> ans = R_FINAL
            :: !jend && polls < MAXPOLL -> polls++; ans = R_RUNNING
            :: !jend && polls == MAXPOLL -> jend = true; ans = R_FINAL     /* J ends */
            :: FAULT -> TAKE_FAULT; ans = R_FAILED
            :: FAULT -> TAKE_FAULT; ans = R_GONE
            :: FAULT -> TAKE_FAULT; ans = R_HORIZON
            fi
          };
          if
          :: ans == R_FINAL ->
             atomic { k = CHAIN; waits = false; ans = A_NONE };
             StartOnce();
             do                               /* another instance is starting the follower: look again once it is decided */
             :: FOLLOWER_BUSY ->
                atomic { (st[CHAIN] != CLAIMED && st[CHAIN] != STARTING) || lexp[CHAIN] -> busy = false; k = CHAIN; waits = false; ans = A_NONE };
                StartOnce()
             :: else -> break
             od;
             if
             :: atomic { WatchEnd(); RESET_ALL }
             :: CRASH
             fi
          :: ans == R_RUNNING || ans == R_FAILED ->
             if
             :: atomic { WatchReschedule(); RESET_ALL }
             :: CRASH
             fi
          :: ans == R_GONE ->
             if
             :: atomic { WatchLost(); RESET_ALL }
             :: CRASH
             fi
          :: ans == R_HORIZON ->
             if
             :: atomic { WatchAbandon(); RESET_ALL }
             :: CRASH
             fi
          fi
       :: else -> atomic { RESET_ALL }
       fi
    od
  } unless { boot != myboot -> goto top }
}

/* Time and the machine: leases of dead holders expire; a live holder's lease may expire too (a slow POST, clock skew)
 * while faults remain; J ends; an OS crash returns the store to its last synced image and restarts every process. */
proctype Clock() {
end:
  do
  :: timeout -> skip   /* nothing else can move: the run stays as it is for ever (weak fairness needs the step to see it) */
  :: atomic { (st[0] == CLAIMED || st[0] == STARTING) && !lexp[0] && (owner[0] == 0 || FAULT) ->
              if :: owner[0] != 0 -> TAKE_FAULT :: else fi; lexp[0] = true }
  :: atomic { (st[1] == CLAIMED || st[1] == STARTING) && !lexp[1] && (owner[1] == 0 || FAULT) ->
              if :: owner[1] != 0 -> TAKE_FAULT :: else fi; lexp[1] = true }
  :: atomic { wl == WL_HELD && (wowner == 0 || FAULT) ->
              if :: wowner != 0 -> TAKE_FAULT :: else fi; wl = WL_EXPIRED }
  :: atomic { jobs[DELIVERY] > 0 && !jend -> jend = true }
#ifdef OS_CRASH
  :: atomic { dirty && FAULT -> TAKE_FAULT;
              st[0] = dst[0]; rid[0] = drid[0]; ver[0] = dver[0]; lexp[0] = false; owner[0] = 0;
              st[1] = dst[1]; rid[1] = drid[1]; ver[1] = dver[1]; lexp[1] = false; owner[1] = 0;
              wst = dwst; wl = dwl; if :: wl == WL_EXPIRED -> wl = WL_HELD :: else fi; wowner = 0;
              dirty = false; boot++ }
#endif
  od
}

init {
  atomic {
    if
    :: filtered = true
    :: skip
    fi;
    run Worker(1); run Worker(2);
    run Sweep(1);
#if SWEEPS > 1
    run Sweep(2);
#endif
#if WATCHERS > 0
    run Watcher(1);
#endif
#if WATCHERS > 1
    run Watcher(2);
#endif
    run Clock()
  }
}

/* ======================= liveness: once the faults are spent (the platform stays up), everything settles ======================= */

#define SETTLED(k) (st[k] == STARTED || st[k] == UNKNOWN || st[k] == REFUSED || st[k] == IGNORED)
/* key 0: accepted and settled, or never accepted and the sender stopped */
#define KEY_DONE (SETTLED(DELIVERY) || (st[DELIVERY] == ABSENT && del == MAXDEL))
/* a watched job's end is seen: the watch of a started run settles */
#define WATCH_DONE (st[DELIVERY] != STARTED || wst != WATCHING)
/* the follower: settled, or absent only when nothing asked for it; once the watch saw the end, recorded (a refusal too) */
#define FOLLOWER_DONE ((SETTLED(CHAIN) || st[CHAIN] == ABSENT) && (wst != W_ENDED || st[CHAIN] != ABSENT))

ltl live { <> [] (KEY_DONE && WATCH_DONE && FOLLOWER_DONE) }
