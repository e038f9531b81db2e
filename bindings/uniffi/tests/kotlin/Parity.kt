// The parity suite in Kotlin: named pairs, events, watch, design pairs, the OpenSpec
// database, credentials and test sessions, on a copy of the shared fixture project
// (bindings/fixtures), doing and expecting what bindings/fixtures/parity.json says, as
// the Node and Python suites do. Also the Exports check of bindings/API.md.

import java.io.File
import java.nio.file.Files
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import dev.twinsync.*

/** A small JSON reader for the fixture file (the JVM has none built in). */
class Json(private val s: String) {
    private var i = 0
    fun parse(): Any? { val v = value(); ws(); check(i == s.length) { "trailing text at $i" }; return v }
    private fun ws() { while (i < s.length && s[i].isWhitespace()) i++ }
    private fun value(): Any? {
        ws()
        return when (s[i]) {
            '{' -> { i++; val m = LinkedHashMap<String, Any?>(); ws()
                if (s[i] == '}') { i++; return m }
                while (true) { ws(); val k = str(); ws(); check(s[i++] == ':'); m[k] = value(); ws()
                    if (s[i++] == '}') return m } ; @Suppress("UNREACHABLE_CODE") m }
            '[' -> { i++; val l = ArrayList<Any?>(); ws()
                if (s[i] == ']') { i++; return l }
                while (true) { l.add(value()); ws(); if (s[i++] == ']') return l } ; @Suppress("UNREACHABLE_CODE") l }
            '"' -> str()
            't' -> { i += 4; true }
            'f' -> { i += 5; false }
            'n' -> { i += 4; null }
            else -> { val start = i; while (i < s.length && (s[i].isDigit() || s[i] in "+-.eE")) i++
                val t = s.substring(start, i); t.toLongOrNull() ?: t.toDouble() }
        }
    }
    private fun str(): String {
        check(s[i++] == '"'); val b = StringBuilder()
        while (s[i] != '"') {
            if (s[i] == '\\') { i++; when (s[i]) {
                'n' -> b.append('\n'); 't' -> b.append('\t'); 'u' -> { b.append(s.substring(i + 1, i + 5).toInt(16).toChar()); i += 4 }
                else -> b.append(s[i]) } } else b.append(s[i])
            i++
        }
        i++; return b.toString()
    }
}

@Suppress("UNCHECKED_CAST") fun Any?.obj() = this as Map<String, Any?>
@Suppress("UNCHECKED_CAST") fun Any?.list() = this as List<Any?>
fun Any?.str() = this as String
fun Any?.num() = (this as Long)

val fixtures = File(System.getenv("TWINSYNC_FIXTURES_DIR") ?: "../fixtures")
val spec: Map<String, Any?> by lazy { Json(File(fixtures, "parity.json").readText()).parse().obj() }

/** A fresh copy of the fixture project, opened as the fixture's actor. */
fun <T> withFixture(body: (File, Project) -> T): T {
    val dir = Files.createTempDirectory("twinsync-kt-parity").toFile()
    try {
        File(fixtures, spec["project"].str()).copyRecursively(dir)
        return Project.open(dir.path, spec["actor"].str()).use { body(dir, it) }
    } finally {
        dir.deleteRecursively()
    }
}

fun code(e: TwinsyncException): String = when (e) {
    is TwinsyncException.InvalidInput -> "INVALID_INPUT"
    is TwinsyncException.NotFound -> "NOT_FOUND"
    is TwinsyncException.Conflict -> "CONFLICT"
    is TwinsyncException.Locked -> "LOCKED"
    is TwinsyncException.Expired -> "EXPIRED"
    is TwinsyncException.Unsafe -> "UNSAFE"
    is TwinsyncException.Io -> "IO"
}

fun throwsCode(expected: Any?, body: () -> Unit) {
    try {
        body()
    } catch (e: TwinsyncException) {
        eq(code(e), expected.str())
        return
    }
    throw AssertionError("expected $expected, nothing thrown")
}

fun parityTests() {
    val unknown = spec["unknown_pair"].obj()
    test("parity: pairs list, then status, sync, history, undo of a named pair") {
        withFixture { dir, p ->
            eq(p.pairs().map { mapOf("name" to it.name, "kind" to it.kind, "left" to it.left, "right" to it.right) },
                spec["pairs"].list())
            throwsCode(spec["no_default_pair"]) { p.status() }
            throwsCode(unknown["code"]) { p.status(unknown["name"].str()) }
            throwsCode(unknown["code"]) { p.history(5u, unknown["name"].str()) }
            val d = spec["docs"].obj()
            val pair = d["pair"].str()
            eq(p.status(pair).items.map { listOf(it.key, it.driftClass.name.lowercase()) },
                d["status"].list())
            eq(p.preview(SyncOptions(pair = pair)).plan.actions.size, d["status"].list().size)
            val r = p.sync(SyncOptions(pair = pair))
            eq(r.counts.applied.toLong(), d["applied"].num())
            for ((to, from) in d["copied"].obj()) eq(File(dir, to).readText(), File(dir, from.str()).readText())
            eq(p.status(pair).items, listOf<DriftItem>())
            eq(p.history(10u, pair).map { it.operationId }, listOf(r.operationId))
            eq(p.history(10u, spec["design"].obj()["pair"].str()), listOf<OperationSummary>())
            eq(p.undoStack(10u, pair)[0].operationId, r.operationId)
            val u = p.undo(null, pair)
            eq(u.operationId, r.operationId)
            eq(u.restored.size.toLong(), d["applied"].num())
            for (to in d["copied"].obj().keys) ok(!File(dir, to).exists(), "$to is gone again")
            eq(p.undoStack(10u, pair), listOf<OperationSummary>())
        }
    }
    test("parity: events since an id") {
        withFixture { _, p ->
            val d = spec["docs"].obj()
            val before = p.events()
            val since = before.lastOrNull()?.id ?: 0uL
            val r = p.sync(SyncOptions(pair = d["pair"].str()))
            val after = p.events(since)
            eq(after.map { it.eventType }, d["events"].list())
            for (e in after) {
                eq(e.pair, d["pair"].str())
                ok(e.id > since, "ids grow")
                ok(e.payload.startsWith("{"), "payload is JSON text")
            }
            eq(after.filter { it.correlationId == r.operationId }.map { it.eventType }, d["operation_events"].list())
            eq(p.events(since, 1u), after.take(1))
            eq(p.events(after.last().id), listOf<Event>())
        }
    }
    test("parity: watch through a callback interface, stopped by its handle") {
        withFixture { dir, p ->
            val w = spec["watch"].obj()
            val notes = LinkedBlockingQueue<WatchNote>()
            val listener = object : WatchListener {
                override fun onNote(note: WatchNote) { notes.put(note) }
            }
            throwsCode(unknown["code"]) { p.watch(listener, WatchOptions(pairs = listOf(unknown["name"].str()))) }
            val opts = WatchOptions(listOf(w["pair"].str()), w["debounce_ms"].num().toULong(), w["period_ms"].num().toULong())
            val handle: WatchHandle = p.watch(listener, opts)
            val seen = mutableListOf<WatchNote>()
            val arrives = File(dir, w["arrives"].str())
            val deadline = System.currentTimeMillis() + 30_000
            while (!arrives.exists() && System.currentTimeMillis() < deadline) {
                val n = notes.poll(200, TimeUnit.MILLISECONDS) ?: continue
                seen.add(n)
                ok(n is WatchNote.Synced, "a synced note: $n")
                n as WatchNote.Synced
                eq(n.pair, w["pair"].str())
                if (n.reason == "start") File(dir, w["write"].obj()["path"].str()).writeText(w["write"].obj()["text"].str())
            }
            val summary = handle.stop()
            eq(arrives.readText(), w["write"].obj()["text"].str())
            eq((seen[0] as WatchNote.Synced).reason, "start")
            ok(summary.syncs >= 2uL && summary.failed == 0uL, "summary $summary")
            eq(handle.stop(), WatchSummary(0uL, 0uL, 0uL, 0uL))
            handle.close()
        }
    }
    test("parity: design pairs drift and sync") {
        withFixture { dir, p ->
            val d = spec["design"].obj()
            val written = File(dir, d["written"].str())
            eq(p.designPreview().plan.actions.size.toLong(), d["applied"].num())
            ok(!written.exists(), "a dry run writes nothing")
            val r = p.designSync(DesignSyncOptions(pair = d["pair"].str(), direction = "code_to_design"))
            eq(r.counts.applied.toLong(), d["applied"].num())
            eq(r.scope, d["pair"].str())
            val drift = Json(p.designDrift(d["pair"].str())).parse().obj()
            eq(drift["components"].list().map { it.obj()["component"].str() }.sorted(), d["components"].list())
            eq(drift["totals"].obj()["drifted"], 0L)
            val edit = d["edit"].obj()
            written.writeText(written.readText().replace(edit["find"].str(), edit["replace"].str()))
            val after = Json(p.designDrift()).parse().obj()
            eq(after["components"].list().first { it.obj()["component"] == edit["component"] }.obj()["status"], edit["status"])
            throwsCode("INVALID_INPUT") { p.designSync(DesignSyncOptions(direction = "sideways")) }
            throwsCode("INVALID_INPUT") { p.designSync(DesignSyncOptions(components = mapOf("Badge" to "up"))) }
            throwsCode(unknown["code"]) { p.designDrift(unknown["name"].str()) }
        }
    }
    test("parity: OpenSpec database query, edit and history") {
        withFixture { dir, _ ->
            val o = spec["openspec"].obj()
            openspecSync(dir.path)
            val q = Json(openspecQuery(dir.path, OpenspecQueryOptions(kind = OpenspecKind.CHANGE))).parse().obj()
            eq(q["count"], 1L)
            val row = q["items"].list()[0].obj()
            eq(listOf(row["id"], row["status"], row["completedTasks"], row["totalTasks"]),
                listOf(o["change"], o["status"], o["completed"], o["total"]))
            eq(Json(openspecQuery(dir.path, OpenspecQueryOptions(search = "no-such-word-anywhere"))).parse().obj()["count"], 0L)
            throwsCode("INVALID_INPUT") { openspecQuery(dir.path, OpenspecQueryOptions(sort = "size")) }
            val edit = openspecEdit(dir.path, o["change"].str(), o["doc"].str(), o["text"].str())
            eq(edit.failed, 0uL)
            eq(File(dir, o["file"].str()).readText(), o["text"].str())
            val rows = Json(openspecQuery(dir.path)).parse().obj()["items"].list()
            eq(rows.first { it.obj()["id"] == o["change"] }.obj()["completedTasks"], o["completed_after_edit"])
            val bad = o["unknown_doc"].obj()
            throwsCode(bad["code"]) { openspecEdit(dir.path, o["change"].str(), bad["doc"].str(), "x") }
            val history = openspecHistory(dir.path, 10u)
            eq(history.size, 2)
            eq(history[0].trigger, "user_edit")
        }
    }
    test("parity: credentials are metadata only") {
        // The master key comes from the environment test.sh sets (the JVM cannot set it).
        eq(System.getenv("TWINSYNC_MASTER_KEY"), spec["credential"].obj()["master_key"])
        withFixture { _, p ->
            val c = spec["credential"].obj()
            val name = c["name"].str()
            @Suppress("UNCHECKED_CAST")
            val meta = c["metadata"] as Map<String, String>
            val seen = mutableListOf(p.credentialAdd(name, c["secret"].str(), c["provider"].str(), null, meta))
            eq(listOf(seen[0].name, seen[0].provider, seen[0].metadata), listOf(name, c["provider"], meta))
            seen.add(p.credentialValidate(name))
            seen.add(p.credentialRotate(name, c["secret"].str() + "-rotated", 86_400_000L))
            eq(seen[2].rotateEveryMs, 86_400_000L)
            eq(p.credentials().map { it.name }, listOf(name))
            eq(p.credential(name).status, seen[2].status)
            seen.add(p.credentialRevoke(name))
            eq(seen.map { it.status }, c["statuses"].list())
            ok(!(seen + p.credentials()).toString().contains(c["secret"].str()), "the secret never comes back")
            ok(p.events().none { it.payload.contains(c["secret"].str()) }, "nor in events")
            throwsCode(c["unknown"].obj()["code"]) { p.credential(c["unknown"].obj()["name"].str()) }
            throwsCode(c["bad_provider"].obj()["code"]) { p.credentialAdd("other", "x", c["bad_provider"].obj()["provider"].str()) }
        }
    }
    test("parity: test sessions start, finish, get and list") {
        withFixture { _, p ->
            val t = spec["test_session"].obj()
            val started = p.testSessionStart(t["story"].str(), t["correlation_id"].str())
            eq(listOf(started.storyId, started.status, started.correlationId), listOf(t["story"], "running", t["correlation_id"]))
            eq(started.latencyMs, null)
            throwsCode(t["bad_status"].obj()["code"]) { p.testSessionFinish(started.id, t["bad_status"].obj()["status"].str()) }
            val finished = p.testSessionFinish(started.id, t["status"].str(), "{\"lcp_ms\":812}")
            eq(finished.status, t["status"])
            eq(Json(finished.performance!!).parse(), t["performance"])
            ok((finished.latencyMs ?: -1) >= 0, "latency")
            eq(p.testSession(started.id), finished)
            eq(p.testSessions(t["story"].str()), listOf(finished))
            eq(p.testSessions("another-story", 5u), listOf<TestSession>())
            ok(p.events().any { it.eventType == t["event"] && it.correlationId == t["correlation_id"] }, "failure event")
            throwsCode(t["unknown"].obj()["code"]) { p.testSession(t["unknown"].obj()["id"].str()) }
        }
    }
}

/**
 * Every export called: the Kotlin column of the Exports table in bindings/API.md must
 * name what the generated bindings define, every function and method of the generated
 * file must be listed (by its last name), and each listed name must be called (or, for
 * a type, used) by this suite's sources.
 */
fun exportsTests(generated: File, sources: String) {
    val api = File(System.getenv("TWINSYNC_API_MD") ?: "../API.md").readText()
    val table = api.substringAfter("<!-- exports:begin -->").substringBefore("<!-- exports:end -->")
    val listed = table.lines().filter { it.startsWith("|") && !it.startsWith("| Python") && !it.startsWith("| ---") }
        .map { it.split("|")[3].trim().replace("`", "") }.filter { it.isNotEmpty() }
    val kt = generated.walk().filter { it.extension == "kt" }.joinToString("\n") { it.readText() }
    // What the generated code defines: uniffi writes every exported function and method
    // (and callback method) as `fun `name`(`; overrides repeat them.
    val defined = Regex("(override )?fun `(\\w+)`\\(").findAll(kt)
        .filter { it.groupValues[1].isEmpty() }.map { it.groupValues[2] }.toSet()
    val last = listed.map { it.substringAfterLast('.') }
    test("exports: API.md lists only what the Kotlin bindings define") {
        val missing = listed.filter { name ->
            val n = name.substringAfterLast('.')
            if (n[0].isUpperCase()) !Regex("(class|interface) $n\\b").containsMatchIn(kt) else n !in defined
        }
        eq(missing, listOf<String>())
    }
    test("exports: every generated function and method is listed in API.md") {
        eq(defined.filter { it !in last }.sorted(), listOf<String>())
    }
    test("exports: every name listed in API.md is called by the suite") {
        val missed = listed.filter { name ->
            val last = name.substringAfterLast('.')
            val called = if (last[0].isUpperCase()) Regex("\\b$last\\b") else Regex("\\b$last\\s*[({]")
            !called.containsMatchIn(sources)
        }
        eq(missed, listOf<String>())
    }
}
