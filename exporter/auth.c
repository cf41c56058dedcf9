/*
 * auth.c - basic-auth password checks for `verdict serve`, off the loop:
 * crypt(3) (bcrypt at cost 12 takes a third of a second) runs on a worker
 * pool of its own, a bounded cache keeps the credentials that verified,
 * and unknown users pay the same hash as known ones. Depends on
 * probe/workers.c (through probe_int.h), libcrypt and OpenSSL only;
 * knows nothing of HTTP.
 */
#include <crypt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "../probe/probe_int.h"
#include "../lib/util.h"
#include "exporter_int.h"

/* Hashes at once: the machine's cores are shared with the checks. */
#define AUTH_THREADS 2
/* Credentials remembered after they verified (least recently used go). */
#define CACHE_SIZE 64

struct cache_slot {
	unsigned char key[32];
	uint64_t used; /* a->tick at the last hit; 0: empty */
};

struct vd_exp_auth_job {
	struct vd_exp_auth *a;
	struct vd_job *job; /* on the pool; NULL while queued here */
	char *hash;	    /* the stored hash, or the stand-in's */
	char *password;
	bool known; /* false: the result is refused whatever crypt says */
	bool ok;    /* set by the worker */
	unsigned char key[32];
	vd_exp_auth_cb *cb;
	void *udata;
	struct vd_exp_auth_job *next, **prevp; /* a->queue while queued */
};

struct vd_exp_auth {
	struct vd_workers *w;
	unsigned char salt[32]; /* random per process: keys mean nothing
				 * outside it */
	struct cache_slot cache[CACHE_SIZE];
	uint64_t tick;
	unsigned running; /* jobs handed to the pool */
	unsigned queued;
	struct vd_exp_auth_job *queue, **tail;
};

bool
vd_exp_hash_verify(const char *hash, const char *password)
{
	struct crypt_data *cd = vd_xcalloc(1, sizeof(*cd));
	const char *h;
	size_t n = strlen(hash);
	bool ok;

	h = crypt_rn(password, hash, cd, (int)sizeof(*cd));
	ok = h != NULL && h[0] != '*' && strlen(h) == n &&
	     CRYPTO_memcmp(h, hash, n) == 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

static void
put_field(EVP_MD_CTX *md, const char *s)
{
	uint32_t n = (uint32_t)strlen(s);
	unsigned char len[4] = {(unsigned char)(n >> 24),
				(unsigned char)(n >> 16),
				(unsigned char)(n >> 8), (unsigned char)n};
	EVP_DigestUpdate(md, len, sizeof(len));
	EVP_DigestUpdate(md, s, n);
}

/* SHA-256(salt, len|user, len|password, len|hash): a user name holding a
 * ':' or the start of a password cannot make two credentials one key. */
static void
cache_key(const struct vd_exp_auth *a, const char *user, const char *password,
	  const char *hash, unsigned char out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned len = 32;

	if (md == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		abort();
	EVP_DigestUpdate(md, a->salt, sizeof(a->salt));
	put_field(md, user);
	put_field(md, password);
	put_field(md, hash);
	EVP_DigestFinal_ex(md, out, &len);
	EVP_MD_CTX_free(md);
}

static bool
cache_hit(struct vd_exp_auth *a, const unsigned char key[32])
{
	size_t i;
	bool hit = false;

	/* every slot is compared, in constant time */
	for (i = 0; i < CACHE_SIZE; i++) {
		if (a->cache[i].used &&
		    CRYPTO_memcmp(a->cache[i].key, key, 32) == 0) {
			a->cache[i].used = ++a->tick;
			hit = true;
		}
	}
	return hit;
}

static void
cache_put(struct vd_exp_auth *a, const unsigned char key[32])
{
	size_t i, victim = 0;

	if (cache_hit(a, key))
		return;
	for (i = 1; i < CACHE_SIZE; i++)
		if (a->cache[i].used < a->cache[victim].used)
			victim = i;
	memcpy(a->cache[victim].key, key, 32);
	a->cache[victim].used = ++a->tick;
}

struct vd_exp_auth *
vd_exp_auth_new(struct ev_loop *loop)
{
	struct vd_exp_auth *a = vd_xcalloc(1, sizeof(*a));

	/* join: a hash ends within a second; joining lets LSan see the
	 * threads' memory freed */
	a->w = vd_workers_new(loop, AUTH_THREADS, true);
	if (RAND_bytes(a->salt, sizeof(a->salt)) != 1)
		abort();
	a->tail = &a->queue;
	return a;
}

static void
job_free(struct vd_exp_auth_job *j)
{
	vd_free_secret(j->password);
	free(j->hash);
	explicit_bzero(j->key, sizeof(j->key));
	free(j);
}

static void
queue_remove(struct vd_exp_auth_job *j)
{
	struct vd_exp_auth *a = j->a;
	if (j->prevp == NULL)
		return;
	*j->prevp = j->next;
	if (j->next)
		j->next->prevp = j->prevp;
	else
		a->tail = j->prevp;
	j->next = NULL;
	j->prevp = NULL;
	a->queued--;
}

static void
run_job(void *arg)
{
	struct vd_exp_auth_job *j = arg;
	j->ok = vd_exp_hash_verify(j->hash, j->password) && j->known;
}

static void pump(struct vd_exp_auth *a);

static void
done_job(void *arg)
{
	struct vd_exp_auth_job *j = arg;
	struct vd_exp_auth *a = j->a;

	a->running--;
	if (j->ok)
		cache_put(a, j->key);
	j->cb(j->udata, j->ok);
	job_free(j);
	pump(a);
}

static void
discard_job(void *arg)
{
	job_free(arg);
}

/* Hands queued jobs to the pool while fewer than AUTH_THREADS run: the
 * pool is not flooded, and a cancelled request costs nothing. */
static void
pump(struct vd_exp_auth *a)
{
	while (a->queue && a->running < AUTH_THREADS) {
		struct vd_exp_auth_job *j = a->queue;
		/* a freed job left a->queue in queue_remove(): the analyzer
		 * loses track of *prevp */
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
		queue_remove(j);
		j->job = vd_job_submit(a->w, run_job, done_job, discard_job, j);
		if (j->job == NULL) {
			/* no thread: refuse rather than hash on the loop */
			j->cb(j->udata, false);
			job_free(j);
			continue;
		}
		a->running++;
	}
}

enum vd_exp_auth_answer
vd_exp_auth_start(struct vd_exp_auth *a, const struct vd_exp_config *cfg,
		  const char *user, const char *password, vd_exp_auth_cb *cb,
		  void *udata, struct vd_exp_auth_job **job)
{
	const struct vd_exp_user *u = NULL;
	struct vd_exp_auth_job *j;
	unsigned char key[32];
	size_t i;

	*job = NULL;
	if (cfg->nusers == 0)
		return VD_AUTH_DENIED;
	for (i = 0; i < cfg->nusers; i++)
		if (strcmp(cfg->users[i].name, user) == 0)
			u = &cfg->users[i];
	if (u) {
		cache_key(a, user, password, u->hash, key);
		if (cache_hit(a, key)) {
			explicit_bzero(key, sizeof(key));
			return VD_AUTH_OK;
		}
	}
	j = vd_xcalloc(1, sizeof(*j));
	j->a = a;
	j->known = u != NULL;
	/* an unknown user is hashed like the first user (same algorithm,
	 * cost and salt) and refused whatever the result */
	j->hash = vd_xstrdup(u ? u->hash : cfg->users[0].hash);
	j->password = vd_xstrdup(password);
	if (u)
		memcpy(j->key, key, sizeof(key));
	explicit_bzero(key, sizeof(key));
	j->cb = cb;
	j->udata = udata;
	if (a->running < AUTH_THREADS) {
		j->job = vd_job_submit(a->w, run_job, done_job, discard_job, j);
		if (j->job == NULL) {
			/* no thread: refuse rather than hash on the loop */
			job_free(j);
			return VD_AUTH_DENIED;
		}
		a->running++;
	} else {
		j->prevp = a->tail;
		*a->tail = j;
		a->tail = &j->next;
		a->queued++;
	}
	*job = j;
	return VD_AUTH_PENDING;
}

void
vd_exp_auth_cancel(struct vd_exp_auth_job *j)
{
	struct vd_exp_auth *a;
	if (j == NULL)
		return;
	a = j->a;
	if (j->prevp) {
		queue_remove(j);
		job_free(j);
		return;
	}
	/* on the pool: discard_job frees it wherever it is */
	vd_job_abandon(j->job);
	a->running--;
	pump(a);
}

unsigned
vd_exp_auth_pending(const struct vd_exp_auth *a)
{
	return a->running + a->queued;
}

void
vd_exp_auth_free(struct vd_exp_auth *a)
{
	struct vd_exp_auth_job *j;
	if (a == NULL)
		return;
	while ((j = a->queue) != NULL) {
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) (see pump()) */
		queue_remove(j);
		job_free(j);
	}
	vd_workers_free(a->w);
	explicit_bzero(a, sizeof(*a));
	free(a);
}
