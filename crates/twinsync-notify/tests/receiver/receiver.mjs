// A webhook receiver on 127.0.0.1 for twinsync's tests. Every message is verified with
// the Standard Webhooks reference library; each verified message is printed as one JSON
// line on stdout: {"id", "type", "answer", "first"} ("first": the id was not seen before).
// Settings from the environment: SECRET (whsec_...), FAIL_FIRST (answer 500 to that many
// messages first), DELAY_MS (wait before answering). The first line is {"port": N}.
import http from "node:http";
import { Webhook } from "standardwebhooks";

const wh = new Webhook(process.env.SECRET);
let failFirst = Number(process.env.FAIL_FIRST || 0);
const delay = Number(process.env.DELAY_MS || 0);
const seen = new Set();

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    let msg;
    try {
      msg = wh.verify(body, req.headers);
    } catch (e) {
      console.log(JSON.stringify({ bad: String(e), headers: req.headers }));
      res.writeHead(400).end();
      return;
    }
    const id = req.headers["webhook-id"];
    const answer = failFirst > 0 ? 500 : 200;
    if (failFirst > 0) failFirst -= 1;
    const first = answer === 200 && !seen.has(id);
    if (answer === 200) seen.add(id);
    setTimeout(() => {
      console.log(JSON.stringify({ id, type: msg.type, answer, first, data: msg.data ?? null }));
      res.writeHead(answer, { "content-type": "text/plain" }).end("ok");
    }, delay);
  });
});
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: server.address().port })));
