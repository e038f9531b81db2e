// Every function, method and error case of the uniffi Kotlin bindings, run on the JVM
// against the built library. Prints one "N passed, N failed" line; exits 1 on failure.

import java.io.File
import java.nio.file.Files
import java.security.MessageDigest
import dev.twinsync.*

var passed = 0
var failed = 0

fun test(name: String, body: () -> Unit) {
    try {
        body()
        passed++
    } catch (e: Throwable) {
        failed++
        println("FAIL $name: $e")
    }
}

fun <T> eq(actual: T, expected: T) {
    if (actual != expected) throw AssertionError("expected <$expected>, got <$actual>")
}

fun ok(cond: Boolean, what: String) {
    if (!cond) throw AssertionError(what)
}

/** Runs [body], which must throw [E] whose message contains [fragment]. */
inline fun <reified E : TwinsyncException> throws(fragment: String, body: () -> Unit) {
    try {
        body()
    } catch (e: TwinsyncException) {
        if (e !is E) throw AssertionError("expected ${E::class.simpleName}, got $e")
        val message = e.message ?: ""
        if (!message.contains(fragment)) throw AssertionError("message <$message> lacks <$fragment>")
        return
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing thrown")
}

fun sha256(bytes: ByteArray): String =
    "sha256:" + MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { "%02x".format(it) }

val SHA = Regex("^sha256:[0-9a-f]{64}$")
val D1 = "sha256:" + "1".repeat(64)
val D2 = "sha256:" + "2".repeat(64)
val D3 = "sha256:" + "3".repeat(64)
const val NOW = 1_700_000_000_000L
val BASE = mapOf("same" to D1, "left-edit" to D1, "both-edit" to D1, "gone-left" to D1)
val LEFT = mapOf("same" to D1, "left-edit" to D2, "both-edit" to D2)
val RIGHT = mapOf("same" to D1, "left-edit" to D1, "both-edit" to D3, "gone-left" to D1, "new-right" to D2)

/** A fresh project folder with `left/` and `right/`, opened as alice. */
fun <T> withProject(body: (File, Project) -> T): T {
    val dir = Files.createTempDirectory("twinsync-kt").toFile()
    try {
        File(dir, "left").mkdir()
        File(dir, "right").mkdir()
        return Project.create(dir.path, "left", "right", "alice").use { body(dir, it) }
    } finally {
        dir.deleteRecursively()
    }
}

fun write(f: File, text: String) {
    f.parentFile.mkdirs()
    f.writeText(text)
}

fun main() {
    // --- canonical hashing ---
    test("canonicalize") {
        eq(canonicalize("{\"b\": 1.0, \"a\": [true, null, \"x\"]}"), "{\"a\":[true,null,\"x\"],\"b\":1}")
        eq(canonicalize("{\"id\": 1, \"t\": 2}", HashOptions(ignore = listOf("/t"))), "{\"id\":1}")
        eq(canonicalizeJson("{\"b\":2,\"a\":1}"), "{\"a\":1,\"b\":2}")
    }
    test("canonicalize options") {
        throws<TwinsyncException.InvalidInput>("2^53") { canonicalize("12345678901234567890") }
        eq(canonicalize("12345678901234567890", HashOptions(bigIntegers = "string")), "\"12345678901234567890\"")
        throws<TwinsyncException.InvalidInput>("big_integers") { canonicalize("1", HashOptions(bigIntegers = "round")) }
        throws<TwinsyncException.InvalidInput>("deeper than 2") { canonicalize("[[[1]]]", HashOptions(maxDepth = 2u)) }
    }
    test("canonicalize errors") {
        throws<TwinsyncException.InvalidInput>("invalid JSON") { canonicalize("{\"a\": }") }
        throws<TwinsyncException.InvalidInput>("duplicate key \"a\"") { canonicalize("{\"a\":1,\"a\":2}") }
        throws<TwinsyncException.InvalidInput>("pattern") { canonicalize("{}", HashOptions(ignore = listOf("x"))) }
    }
    test("canonicalHash") {
        val a = canonicalHash("{\"a\": 1, \"b\": [1, 2]}")
        ok(SHA.matches(a), a)
        eq(canonicalHash("{ \"b\":[1,2],\n \"a\":1 }"), a)
        ok(canonicalHash("{\"a\": 2, \"b\": [1, 2]}") != a, "content changes the hash")
        eq(a, sha256(canonicalize("{\"a\": 1, \"b\": [1, 2]}").toByteArray()))
        eq(canonicalHash("{\"a\":1,\"t\":5}", HashOptions(ignore = listOf("/t"))), canonicalHash("{\"a\":1}"))
        eq(canonicalHashJson("{\"a\":1}"), canonicalHash("{\"a\":1}"))
        throws<TwinsyncException.InvalidInput>("invalid JSON") { canonicalHashJson("[1,") }
    }
    test("hashText") {
        eq(hashText("a\r\nb\n"), hashText("\uFEFFa\nb\n"))
        ok(hashText("a \nb") != hashText("a\nb"), "trailing blanks count by default")
        eq(hashText("a \nb", HashOptions(trimTrailingWhitespace = true)), hashText("a\nb"))
        eq(hashText(""), sha256(ByteArray(0)))
    }
    test("hashBytes") {
        eq(hashBytes("a\r\n".toByteArray()), sha256("a\r\n".toByteArray()))
        ok(hashBytes("a\r\n".toByteArray()) != hashText("a\r\n"), "bytes are not normalised")
    }
    test("treeDigest") {
        val t = treeDigest(mapOf("a.md" to D1, "b.md" to D2))
        ok(SHA.matches(t), t)
        eq(treeDigest(linkedMapOf("b.md" to D2, "a.md" to D1)), t)
        ok(treeDigest(mapOf("a.md" to D1, "b.md" to D3)) != t, "content changes the tree")
        eq(treeDigest(mapOf("a.md" to "# A\r\n")), treeDigest(mapOf("a.md" to hashText("# A\n"))))
        throws<TwinsyncException.InvalidInput>("entries[\"a.md\"]") { treeDigest(mapOf("a.md" to "sha256:abc")) }
        throws<TwinsyncException.InvalidInput>("../escape") { treeDigest(mapOf("../escape" to D1)) }
    }

    // --- drift and plan ---
    test("detectDrift") {
        val d = detectDrift(BASE, LEFT, RIGHT)
        eq(d.items.map { it.key to it.driftClass }, listOf(
            "both-edit" to DriftClass.CONFLICT_MODIFY_MODIFY,
            "gone-left" to DriftClass.DELETED_LEFT,
            "left-edit" to DriftClass.CHANGED_LEFT,
            "new-right" to DriftClass.ADDED_RIGHT,
        ))
        eq(d.counts, mapOf("changed_left" to 1uL, "added_right" to 1uL, "deleted_left" to 1uL, "conflict_modify_modify" to 1uL))
        eq(d.inSync, 1uL)
        eq(Triple(d.items[1].base, d.items[1].left, d.items[1].right), Triple(D1, null, D1))
        eq(detectDrift(mapOf("a" to "x\n"), mapOf("a" to "x\r\n"), mapOf("a" to hashText("y\n"))).items.map { it.driftClass },
            listOf(DriftClass.CHANGED_RIGHT))
        throws<TwinsyncException.InvalidInput>("right[\"x\"]") { detectDrift(mapOf(), mapOf(), mapOf("x" to "sha256:zz")) }
    }
    test("plan") {
        val p = plan(BASE, LEFT, RIGHT, PlanOptions(policy = "prefer-left", nowMs = NOW))
        eq(p.actions.associate { it.key to it.kind }, mapOf(
            "both-edit" to ActionKind.COPY_TO_RIGHT,
            "gone-left" to ActionKind.DELETE_RIGHT,
            "left-edit" to ActionKind.COPY_TO_RIGHT,
            "new-right" to ActionKind.COPY_TO_LEFT,
        ))
        eq(p.policy to p.direction, "prefer-left" to "both")
        ok(Regex("^[0-9a-f]{64}$").matches(p.operationId), p.operationId)
        eq(plan(BASE, LEFT, RIGHT, PlanOptions(policy = "prefer-left", nowMs = NOW + 500)).operationId, p.operationId)
        val m = plan(BASE, LEFT, RIGHT, PlanOptions(direction = "left-to-right", nowMs = NOW))
        eq(m.actions.first { it.key == "both-edit" }.kind, ActionKind.CONFLICT)
        eq(m.actions.first { it.key == "new-right" }.kind, ActionKind.SKIP)
        eq(m.policy to m.direction, "manual" to "left_to_right")
        eq(plan(BASE, LEFT, RIGHT).policy, "manual")
        throws<TwinsyncException.InvalidInput>("invalid policy") { plan(mapOf(), mapOf(), mapOf(), PlanOptions(policy = "sometimes")) }
        throws<TwinsyncException.InvalidInput>("invalid direction") { plan(mapOf(), mapOf(), mapOf(), PlanOptions(direction = "up")) }
    }

    // --- merge ---
    test("mergeText") {
        eq(mergeText("a\nb\nc\n", "A\nb\nc\n", "a\nb\nC\n"), TextMerge("A\nb\nC\n", 0uL))
        val m = mergeText("x\n", "left\n", "right\n", MergeTextOptions(labels = listOf("mine", "old", "theirs"), style = ConflictStyle.DIFF3))
        eq(m, TextMerge("<<<<<<< mine\nleft\n||||||| old\nx\n=======\nright\n>>>>>>> theirs\n", 1uL))
        eq(mergeText("x\n", "l\n", "r\n", MergeTextOptions(favor = Favor.THEIRS)).text, "r\n")
        eq(mergeText("x\n", "l\n", "r\n", MergeTextOptions(favor = Favor.OURS)).text, "l\n")
        eq(mergeText("x\n", "l\n", "r\n", MergeTextOptions(favor = Favor.UNION)).text, "l\nr\n")
        ok(mergeText("x\n", "l\n", "r\n", MergeTextOptions(markerSize = 3u, style = ConflictStyle.ZDIFF3)).text.startsWith("<<< left\n"), "marker size")
        eq(mergeText("x\n", "l\n", "r\n", MergeTextOptions(favor = Favor.MARKERS, style = ConflictStyle.MERGE)).conflicts, 1uL)
        throws<TwinsyncException.InvalidInput>("labels: expected 3") { mergeText("", "", "", MergeTextOptions(labels = listOf("a"))) }
    }
    test("mergeJson") {
        val m = mergeJson("{\"a\":1,\"b\":1,\"c\":1}", "{\"a\":2,\"b\":1,\"c\":5}", "{\"a\":1,\"b\":3,\"c\":6}")
        eq(m.value, "{\"a\":2,\"b\":3,\"c\":5}")
        eq(m.conflicts, listOf(JsonConflict("/c", "1", "5", "6")))
        eq(mergeJson("{\"a\":1}", "{}", "{\"a\":2}").conflicts, listOf(JsonConflict("/a", "1", null, "2")))
        val base = "{\"xs\":[{\"id\":1,\"v\":0},{\"id\":2,\"v\":0}]}"
        val left = "{\"xs\":[{\"id\":1,\"v\":1},{\"id\":2,\"v\":0}]}"
        val right = "{\"xs\":[{\"id\":1,\"v\":0},{\"id\":2,\"v\":2}]}"
        ok(mergeJson(base, left, right).conflicts.isNotEmpty(), "arrays are atomic without an id field")
        eq(mergeJson(base, left, right, "id"), JsonMerge("{\"xs\":[{\"id\":1,\"v\":1},{\"id\":2,\"v\":2}]}", listOf()))
        throws<TwinsyncException.InvalidInput>("right: invalid JSON") { mergeJson("{}", "{}", "{") }
    }

    // --- coverage ---
    val input = """{"components": [{"name": "Button", "source": "src/Button.tsx", "axes": [{"name": "size", "options": ["sm", "lg"]}]}],
        "stories": [{"id": "button--small", "component": "Button", "args": {"size": "sm"}, "tags": ["visual"]},
                    {"id": "button--huge", "component": "Button", "args": {"size": "xl"}},
                    {"id": "card--x", "component": "Card"}],
        "tests": [{"component": "Button", "kind": "unit"}]}"""
    test("coverage") {
        val r = coverage(input)
        eq(r.totals, CoverageTotals(1uL, 2uL, 1uL, 50.0, 2uL, 0uL, 1uL, 2uL))
        val b = r.components.single()
        eq(Triple(b.component, b.source, b.stories), Triple("Button", "src/Button.tsx", 2uL))
        eq(b.missingVariants, listOf("{\"size\":\"lg\"}"))
        eq(b.missingVariantsTotal, 1uL)
        eq(b.testKinds, listOf(TestKind.VISUAL, TestKind.UNIT))
        eq(b.missingTestKinds, listOf(TestKind.INTERACTION, TestKind.A11Y))
        eq(b.warnings.map { it.kind }, listOf("unknown_option"))
        ok(b.warnings[0].message.contains("button--huge"), b.warnings[0].message)
        eq(r.warnings.map { it.kind }, listOf("story_for_unknown_component"))
        val limited = coverage(input, CoverageOptions(missingLimit = 0u, requiredKinds = listOf(TestKind.UNIT))).components.single()
        eq(limited.missingVariants, listOf<String>())
        eq(limited.missingTestKinds, listOf<TestKind>())
        throws<TwinsyncException.InvalidInput>("coverage input") { coverage("{\"components\": 3}") }
        throws<TwinsyncException.InvalidInput>("more than once") { coverage("{\"components\": [{\"name\":\"A\"},{\"name\":\"A\"}]}") }
    }

    // --- OpenSpec, on the project's corpus, against the real CLI's answers (test.sh runs it) ---
    val corpus = File(System.getenv("TWINSYNC_OPENSPEC_DIR") ?: "../../tests/openspec-corpus")
    val expectedDir = System.getenv("TWINSYNC_OPENSPEC_EXPECTED")
    fun expected(name: String): String {
        ok(expectedDir != null, "no CLI answers: run bindings/uniffi/test.sh (it sets TWINSYNC_OPENSPEC_EXPECTED)")
        return File(expectedDir!!, name).readText()
    }
    // What depends on the machine or the clock.
    val scrub = HashOptions(ignore = listOf("/root", "/**/lastModified", "/**/durationMs", "/valid"))
    fun sameDoc(ours: String, theirs: String) = eq(canonicalHash(ours, scrub), canonicalHash(theirs, scrub))
    test("OpenSpec corpus is present") { ok(File(corpus, "openspec/changes").isDirectory, "no corpus at $corpus (set TWINSYNC_OPENSPEC_DIR)") }
    test("openspecList") {
        // The default order follows file times, which differ between checkouts: compare entries as a set.
        fun entries(doc: String) = Regex("\\{[^{}]*\\}").findAll(canonicalize(doc, scrub)).map { it.value }.sorted().toList()
        val ours = openspecList(corpus.path)
        eq(entries(ours).size, 11)
        eq(entries(ours), entries(expected("list.json")))
        sameDoc(openspecList(File(corpus, "openspec/specs").path, specs = true), expected("list-specs.json"))
    }
    test("openspecShow") {
        val change = openspecShow(corpus.path, "add-update-workflow", OpenspecKind.CHANGE)
        sameDoc(change, expected("show-change/add-update-workflow.json"))
        ok(canonicalize(change).contains("\"deltaCount\":5"), "five deltas")
        eq(openspecShow(corpus.path, "add-update-workflow"), change)
        sameDoc(openspecShow(corpus.path, "cli-list", kind = OpenspecKind.SPEC), expected("show-spec/cli-list.json"))
        throws<TwinsyncException.NotFound>("no-such-change") { openspecShow(corpus.path, "no-such-change") }
        throws<TwinsyncException.NotFound>("add-update-workflow") { openspecShow(corpus.path, "add-update-workflow", OpenspecKind.SPEC) }
    }
    test("openspecValidate") {
        val v = openspecValidate(corpus.path)
        sameDoc(v, expected("validate.json"))
        val top = HashOptions(ignore = listOf("/items", "/summary", "/root", "/version"))
        eq(canonicalize(v, top), "{\"valid\":false}")
        // Without their issues and the summary, the items are the innermost objects.
        val items = HashOptions(ignore = listOf("/root", "/summary", "/items/*/issues"))
        val failed = Regex("\\{[^{}]*\\}").findAll(canonicalize(v, items)).map { it.value }
            .filter { it.contains("\"valid\":false") }.map { Regex("\"id\":\"([^\"]+)\"").find(it)!!.groupValues[1] }.toList()
        eq(failed.sorted(), listOf("add-global-install-scope", "auth/session", "broken", "cli-list", "empty-change",
            "legacy-simple-deltas", "malformed-deltas", "placeholder"))
        val strict = openspecValidate(corpus.path, strict = true)
        sameDoc(strict, expected("validate-strict.json"))
        eq(canonicalize(strict, top), "{\"valid\":false}")
    }
    test("openspec errors name the folder") {
        val empty = Files.createTempDirectory("twinsync-kt-empty").toFile()
        try {
            throws<TwinsyncException.NotFound>(empty.path) { openspecList(empty.path) }
            throws<TwinsyncException.NotFound>(empty.path) { openspecValidate(File(empty, "missing").path) }
            throws<TwinsyncException.NotFound>(empty.path) { openspecSync(empty.path) }
            ok(!File(empty, ".twinsync").exists(), "nothing written where no openspec/ was found")
        } finally {
            empty.deleteRecursively()
        }
    }
    /** A copy of the corpus's openspec/ folder: syncing writes beside it. */
    fun withOpenspecCopy(body: (File) -> Unit) {
        val dir = Files.createTempDirectory("twinsync-kt-openspec").toFile()
        try {
            File(corpus, "openspec").copyRecursively(File(dir, "openspec"))
            body(dir)
        } finally {
            dir.deleteRecursively()
        }
    }
    test("openspecPreview, openspecSync") {
        withOpenspecCopy { dir ->
            val db = File(dir, ".twinsync/openspec.db")
            val preview = openspecPreview(dir.path)
            eq(preview.rows.size, 10 + 3 + 7)
            eq(preview.rows.map { it.row }.toSet(), setOf("create"))
            val row = preview.rows.first { it.id == "add-update-workflow" }
            eq(row.kind to row.path, OpenspecKind.CHANGE to "changes/add-update-workflow")
            eq(row.docs.map { it.doc }.toSet(), setOf("proposal.md", "tasks.md", "design.md",
                "specs/cli-list/spec.md", "specs/cli-refresh/spec.md", "specs/cli-update/spec.md"))

            val first = openspecSync(dir.path)
            ok(db.isFile, "sync created $db")
            eq(File(first.db).canonicalPath, db.canonicalPath)
            val r = first.report
            eq(listOf(r.trigger, r.policy), listOf("manual", "fs-wins"))
            eq(listOf(r.checked, r.failed, r.conflicts), listOf(20uL, 0uL, 0uL))
            eq(r.items.size, 20)
            eq(r.items.map { it.outcome to it.directions }.toSet(), setOf("created" to listOf("fs->db")))
            eq(r.items.first { it.id == "cli-list" }.files, listOf("specs/cli-list/spec.md"))

            val again = openspecSync(dir.path).report
            eq(again.checked to again.items, 20uL to listOf<OpenspecSyncItem>())

            val spec = File(dir, "openspec/specs/cli-list/spec.md")
            spec.appendText("\nEdited on disk.\n")
            eq(openspecPreview(dir.path).rows.map { Triple(it.id, it.row, it.docs.map { d -> d.doc }) },
                listOf(Triple("cli-list", "update", listOf("spec.md"))))
            val edited = openspecSync(dir.path).report.items.single()
            eq(listOf(edited.id, edited.outcome), listOf("cli-list", "updated"))
            eq(edited.directions to edited.files, listOf("fs->db") to listOf("specs/cli-list/spec.md"))
            eq(openspecSync(dir.path).report.items, listOf<OpenspecSyncItem>())
        }
    }
    test("openspecSync options and errors") {
        withOpenspecCopy { dir ->
            val one = openspecSync(dir.path, OpenspecSyncOptions(change = "add-update-workflow", policy = "manual")).report
            eq(one.policy, "manual")
            eq(one.items.map { Triple(it.kind, it.id, it.outcome) }, listOf(Triple(OpenspecKind.CHANGE, "add-update-workflow", "created")))
            eq(openspecPreview(dir.path).rows.size, 19)
            throws<TwinsyncException.InvalidInput>("yolo") { openspecSync(dir.path, OpenspecSyncOptions(policy = "yolo")) }
            throws<TwinsyncException.InvalidInput>("yolo") { openspecPreview(dir.path, OpenspecSyncOptions(policy = "yolo")) }
            throws<TwinsyncException.NotFound>("no-such-change") { openspecSync(dir.path, OpenspecSyncOptions(change = "no-such-change")) }
        }
    }
    test("openspecSetStatus") {
        withOpenspecCopy { dir ->
            openspecSync(dir.path)
            ok(openspecSetStatus(dir.path, "add-update-workflow", "approved").contains("\"status\":\"approved\""), "approved")
            ok(openspecSetStatus(dir.path, "cli-list", "review", OpenspecKind.SPEC).contains("\"status\":\"review\""), "review")
            throws<TwinsyncException.InvalidInput>("done") { openspecSetStatus(dir.path, "add-update-workflow", "done") }
            throws<TwinsyncException.NotFound>("no-such-change") { openspecSetStatus(dir.path, "no-such-change", "approved") }
        }
    }

    // --- design files: a real Storybook index (a Storybook 7.6 build's sample project) ---
    val index = File(System.getenv("TWINSYNC_STORYBOOK_INDEX")
        ?: "crates/twinsync-design/tests/fixtures/research/crayfisher-zari_digital-agency-design-system__index.v4.json")
    /** A folder holding the sample Button as a twinsync components.json. */
    fun withComponents(body: (File, File) -> Unit) {
        val dir = Files.createTempDirectory("twinsync-kt-design").toFile()
        try {
            val components = File(dir, "components.json")
            components.writeText("""{"components": [{"name": "Button", "source": "./src/stories/Button.vue", "title": "Example/Button",
                "props": [{"name": "primary", "kind": "boolean", "default": false},
                          {"name": "size", "kind": "variant", "options": ["small", "medium", "large"], "default": "medium"}]}]}""")
            body(dir, components)
        } finally {
            dir.deleteRecursively()
        }
    }
    test("designCoverage") {
        withComponents { dir, components ->
            ok(index.isFile, "no Storybook index at $index (set TWINSYNC_STORYBOOK_INDEX)")
            val r = designCoverage(components.path, index.path)
            eq(r.totals, CoverageTotals(1uL, 6uL, 3uL, 50.0, 3uL, 0uL, 1uL, 0uL))
            val b = r.components.single()
            eq(Triple(b.component, b.source, b.coveredVariants), Triple("Button", "./src/stories/Button.vue", 3uL))
            eq(b.missingVariants.filter { it.contains("\"primary\":true") }.sorted(),
                listOf("{\"primary\":true,\"size\":\"large\"}", "{\"primary\":true,\"size\":\"small\"}"))
            eq(r.unmatchedStories, listOf(UnmatchedStory("Button", "example-button--secondary", "Secondary")))
            eq(r.orphanStories.sorted(), listOf("example-header--logged-in", "example-header--logged-out",
                "example-page--logged-in", "example-page--logged-out"))
            throws<TwinsyncException.NotFound>("nope.json") { designCoverage(File(dir, "nope.json").path, index.path) }
            throws<TwinsyncException.InvalidInput>("found Storybook index") { designCoverage(index.path, components.path) }
        }
    }
    test("designScaffold") {
        withComponents { dir, components ->
            val out = File(dir, "stories")
            val planned = designScaffold(components.path, out.path, DesignScaffoldOptions(dryRun = true, root = dir.path))
            val f = planned.files.single()
            eq(planned.dryRun to f.outcome, true to ScaffoldOutcome.CREATED)
            eq(listOf(f.stories, f.totalVariants, f.skipped), listOf(6uL, 6uL, 0uL))
            ok(!out.exists() && !File(dir, ".twinsync").exists(), "a dry run writes nothing")

            val w = designScaffold("components.json", "stories", DesignScaffoldOptions(root = dir.path)).files.single()
            eq(w.outcome to w.storyIds, ScaffoldOutcome.CREATED to f.storyIds)
            val story = File(w.path)
            eq(story.parentFile.canonicalPath, out.canonicalPath)
            ok(story.readText().contains("Example/Button"), "the story file names its title")
            val edited = story.readText() + "\n// kept by hand\n"
            story.writeText(edited)
            val again = designScaffold("components.json", "stories", DesignScaffoldOptions(root = dir.path))
            eq(again.files.map { it.outcome }, listOf(ScaffoldOutcome.UNCHANGED))
            eq(story.readText(), edited)

            val pw = designScaffold(components.path, out.path, DesignScaffoldOptions(pairwise = true, dryRun = true, root = dir.path))
            eq(pw.files.single().pairwise, false) // two axes: the full product is already pairwise
            throws<TwinsyncException.NotFound>("nope.json") { designScaffold(File(dir, "nope.json").path, out.path) }
        }
    }

    // --- the project handle ---
    test("create, open, dir, actor") {
        withProject { dir, p ->
            eq(File(p.dir()).canonicalPath, dir.canonicalPath)
            eq(p.actor(), "alice")
            Project.open(File(dir, "left").path, "bob").use { again ->
                eq(File(again.dir()).canonicalPath, dir.canonicalPath)
                eq(again.actor(), "bob")
                again.setActor("carol")
                eq(again.actor(), "carol")
                throws<TwinsyncException.InvalidInput>("actor") { again.setActor(" ") }
            }
            throws<TwinsyncException.InvalidInput>("already a twinsync project") { Project.create(dir.path, "left", "right") }
            throws<TwinsyncException.InvalidInput>("not a folder") { Project.create(File(dir, "left").path, "x", "y") }
            throws<TwinsyncException.NotFound>("not a twinsync project") { Project.open(dir.parentFile.path) }
            throws<TwinsyncException.Io>("missing") { Project.open(File(dir, "missing").path) }
        }
    }
    test("status, preview, sync, history, undoStack, undo") {
        withProject { dir, p ->
            write(File(dir, "left/docs/a.md"), "# A\n")
            val st = p.status()
            eq(st.items.map { Triple(it.key, it.driftClass, it.right) }, listOf(Triple("docs/a.md", DriftClass.ADDED_LEFT, null)))
            eq(st.items[0].left, hashText("# A\n"))
            eq(st.counts to st.inSync, mapOf("added_left" to 1uL) to 0uL)
            val pv = p.preview()
            eq(pv.plan.actions.map { it.key to it.kind }, listOf("docs/a.md" to ActionKind.COPY_TO_RIGHT))
            ok(pv.diffs.single().diff.contains("+# A"), pv.diffs.single().diff)
            ok(!File(dir, "right/docs/a.md").exists(), "a preview changes nothing")
            val r = p.sync()
            eq(listOf(r.status, r.actor, r.trigger), listOf("completed", "alice", "manual"))
            eq(r.counts, ReportCounts(1uL, 1uL, 0uL, 0uL, 0uL))
            val item = r.items.single()
            eq(Triple(item.key, item.outcome, item.action), Triple("docs/a.md", Outcome.APPLIED, ActionKind.COPY_TO_RIGHT))
            ok(r.reversibleUntil != null && !r.replayed, "undoable, not replayed")
            eq(File(dir, "right/docs/a.md").readText(), "# A\n")
            eq(p.status().items, listOf<DriftItem>())
            eq(p.history().map { it.operationId }, listOf(r.operationId))
            eq(p.undoStack(5u).map { it.operationId }, listOf(r.operationId))
            val u = p.undo(r.operationId)
            eq(Triple(u.operationId, u.restored, u.refused), Triple(r.operationId, listOf("docs/a.md"), listOf<RefusedItem>()))
            ok(!File(dir, "right/docs/a.md").exists(), "undo removed the copy")
            ok(p.history(10u)[0].undoneAt != null, "history shows the undo")
            eq(p.undoStack(), listOf<OperationSummary>())
            throws<TwinsyncException.Expired>("already undone") { p.undo(r.operationId) }
            throws<TwinsyncException.NotFound>("") { p.undo("0".repeat(64)) }
        }
    }
    test("conflicts, policy and direction options") {
        withProject { dir, p ->
            throws<TwinsyncException.NotFound>("") { p.undo() }
            write(File(dir, "left/n.txt"), "base\n")
            p.sync()
            write(File(dir, "left/n.txt"), "left\n")
            write(File(dir, "right/n.txt"), "right\n")
            val r = p.sync()
            val c = r.conflicts.single()
            eq(c.key to c.driftClass, "n.txt" to DriftClass.CONFLICT_MODIFY_MODIFY)
            eq(String(c.left!!) to String(c.right!!), "left\n" to "right\n")
            eq(c.leftDigest, hashText("left\n"))
            val won = p.sync(SyncOptions(policy = "prefer-right"))
            eq(won.counts.applied to won.policy, 1uL to "prefer-right")
            eq(File(dir, "left/n.txt").readText(), "right\n")
            write(File(dir, "right/r.txt"), "r\n")
            val oneWay = p.sync(SyncOptions(direction = "left-to-right"))
            eq(oneWay.items.single().outcome to oneWay.direction, Outcome.SKIPPED to "left_to_right")
            throws<TwinsyncException.InvalidInput>("invalid policy") { p.sync(SyncOptions(policy = "whoever")) }
            throws<TwinsyncException.InvalidInput>("invalid direction") { p.preview(SyncOptions(direction = "up")) }
        }
    }
    test("mass deletion is Unsafe unless allowed") {
        withProject { dir, p ->
            for (i in 0 until 12) write(File(dir, "left/f$i.txt"), "$i\n")
            p.sync()
            for (i in 0 until 12) File(dir, "left/f$i.txt").delete()
            throws<TwinsyncException.Unsafe>("would lose 12 of 12") { p.sync() }
            eq(File(dir, "right").list()!!.size, 12)
            eq(p.sync(SyncOptions(allowMassDelete = true)).counts.applied, 12uL)
        }
    }
    test("locks") {
        withProject { dir, p ->
            eq(p.lockStatus(), LockStatus(false, null))
            val lock = p.lockAcquire(60_000L, "release prep")
            eq(Triple(lock.name, lock.owner, lock.reason), Triple("project", "alice", "release prep"))
            ok(lock.token.length >= 16, "token")
            val st = p.lockStatus()
            ok(st.held && st.lock!!.owner == "alice" && st.lock!!.token == "", "status hides the token")
            Project.open(dir.path, "bob").use { bob ->
                throws<TwinsyncException.Locked>("held by alice") { bob.lockAcquire() }
                throws<TwinsyncException.Locked>("not held by bob") { bob.lockRenew("bob") }
                throws<TwinsyncException.Locked>("not held by bob") { bob.lockRelease("bob") }
                val renewed = p.lockRenew(lock.token, 120_000L)
                ok(renewed.expiresAt > lock.expiresAt, "renew extends")
                val rel = p.lockRelease("alice")
                eq(Triple(rel.released, rel.forced, rel.lock?.owner), Triple(true, false, "alice"))
                eq(p.lockStatus().held, false)
                throws<TwinsyncException.Locked>("not held") { p.lockRelease("alice") }
                bob.lockAcquire()
                val forced = p.lockRelease("alice", true, "bob left for the day")
                eq(Triple(forced.released, forced.forced, forced.lock?.owner), Triple(true, true, "bob"))
                eq(p.lockRelease("alice", force = true), LockRelease(false, true, null))
            }
        }
    }
    test("every error case is a TwinsyncException") {
        val cases: List<TwinsyncException> = listOf(
            TwinsyncException.InvalidInput("r"), TwinsyncException.NotFound("r"), TwinsyncException.Conflict("r"),
            TwinsyncException.Locked("r"), TwinsyncException.Expired("r"), TwinsyncException.Unsafe("r"), TwinsyncException.Io("r"),
        )
        eq(cases.map { it.message }, List(7) { "r" })
    }

    // --- RFC 8785 conformance data shared with the other bindings ---
    val jcs = File(System.getenv("TWINSYNC_JCS_DIR") ?: "../../tests/jcs")
    test("JCS conformance data is present") { ok(File(jcs, "input").isDirectory, "no conformance data at $jcs (set TWINSYNC_JCS_DIR)") }
    for (case in listOf("arrays", "french", "structures", "unicode", "values", "weird")) {
        test("JCS conformance: $case") {
            val expected = File(jcs, "output/$case.json").readBytes()
            val doc = File(jcs, "input/$case.json").readText()
            ok(canonicalize(doc).toByteArray().contentEquals(expected), "canonical bytes of $case")
            eq(canonicalHash(doc), sha256(expected))
        }
    }

    // --- named pairs, events, watch, design pairs, OpenSpec database, credentials, test sessions ---
    parityTests()
    // --- every export listed in bindings/API.md is defined and called ---
    val suite = File(System.getenv("TWINSYNC_KOTLIN_TESTS") ?: "tests/kotlin")
    exportsTests(
        File(System.getenv("TWINSYNC_GENERATED_KOTLIN") ?: "generated/kotlin"),
        suite.walk().filter { it.extension == "kt" }.joinToString("\n") { it.readText() },
    )

    println("$passed passed, $failed failed")
    if (failed > 0) System.exit(1)
}
