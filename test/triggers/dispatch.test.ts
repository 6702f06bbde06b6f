import type { SQSEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { dispatch, eachRecord } from "../../lib/triggers/dispatch";
import { lambdaContext, sampleEvent } from "../support/lambda";

const sqs = (): SQSEvent => sampleEvent<SQSEvent>("archive.sqs.json");
const http = () => sampleEvent<unknown>("send-link.http.json");
const bus = { id: "ev-1", "detail-type": "ArchiveRequested", source: "x", detail: { spaceId: "s" } };
const sns = {
  Records: [
    { EventSource: "aws:sns", Sns: { MessageId: "sns-1", Message: JSON.stringify({ spaceId: "s" }) } },
  ],
};

describe("dispatch: one trigger switch for every function", () => {
  it("hands EventBridge, SNS and direct deliveries to their routes out of their envelopes", async () => {
    const seen = async (delivery: unknown) => delivery;
    const routes = { eventbridge: seen, sns: seen, direct: seen };
    await expect(dispatch(bus, lambdaContext(), "f", routes)).resolves.toEqual({
      payload: { spaceId: "s" },
      id: "ev-1",
    });
    await expect(dispatch(sns, lambdaContext(), "f", routes)).resolves.toEqual({
      payload: { spaceId: "s" },
      id: "sns-1",
    });
    await expect(dispatch({ spaceId: "s" }, lambdaContext(), "f", routes)).resolves.toEqual({
      payload: { spaceId: "s" },
      id: undefined,
    });
  });

  it("answers an HTTP event it does not take with a 400 naming the trigger and what it takes", async () => {
    const answer = await dispatch(http(), lambdaContext(), "the worker", { direct: async () => 1 }, "try x");
    expect(answer).toMatchObject({ statusCode: 400 });
    const { error } = JSON.parse((answer as { body: string }).body);
    expect(error).toMatchObject({
      code: "UnsupportedTrigger",
      message: "the worker does not take HTTP (API Gateway) events; it takes direct invoke (try x)",
    });
  });

  it("throws the same 400 for any other trigger it does not take", async () => {
    await expect(
      dispatch(sqs(), lambdaContext(), "f", { http: async () => ({ statusCode: 200 }) }),
    ).rejects.toMatchObject({
      status: 400,
      code: "UnsupportedTrigger",
      message: "f does not take SQS events; it takes HTTP (API Gateway)",
    });
  });

  it("runs each SQS record and reports only the failed ones for redelivery", async () => {
    const event = sqs();
    const template = event.Records[0];
    if (!template) throw new Error("the sample has a record");
    event.Records = [
      { ...template, messageId: "ok" },
      { ...template, messageId: "bad" },
    ];
    const answer = await eachRecord(event, async (record) => {
      if (record.messageId === "bad") throw new Error("no");
    });
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: "bad" }] });
  });
});
