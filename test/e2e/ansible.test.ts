/**
 * Debian's ansible (amazon.aws, on /usr/bin/python3) against the built euca with one
 * endpoint_url, as a user would point it: aws_caller_info (STS), ec2_key and
 * ec2_security_group with a CIDR rule — and a second run changes nothing; ec2_instance
 * launches and terminates an instance in the default VPC; an EBS-backed one is launched
 * with a volume, stopped, started and made into an image by ec2_ami.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
} from "@aws-sdk/client-ec2";
import { BUNDLE, readEucarc, startEuca, type EucaProcess } from "../support/process";
import { imageFile } from "../support/bundles";
import { tempDir } from "../support/cloud";
import { run } from "../support/exec";
import { ec2Client } from "../support/ec2";

const PLAYBOOK = "/usr/bin/ansible-playbook";
const PLAY = `- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ec2: "{{ lookup('env', 'EC2_URL') }}"
  tasks:
    - amazon.aws.aws_caller_info: { endpoint_url: "{{ ec2 }}", region: eucalyptus }
      register: me
    - copy: { content: "{{ me.account }}", dest: "{{ lookup('env', 'OUT') }}/account" }
    - amazon.aws.ec2_key: { name: ansible-key, endpoint_url: "{{ ec2 }}", region: eucalyptus }
    - amazon.aws.ec2_security_group:
        name: ansible-web
        description: web servers
        endpoint_url: "{{ ec2 }}"
        region: eucalyptus
        rules: [{ proto: tcp, ports: [22], cidr_ip: 10.0.0.0/8 }]
`;

/** ec2_instance: finds the default VPC and subnet, launches by name into a group and waits for running; then terminates it. */
const INSTANCE_PLAY = `- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ec2: "{{ lookup('env', 'EC2_URL') }}"
  tasks:
    - amazon.aws.ec2_instance:
        name: ansible-vm
        image_id: "{{ lookup('env', 'EMI') }}"
        instance_type: m1.small
        security_group: ansible-web
        key_name: ansible-key
        state: running
        wait: true
        endpoint_url: "{{ ec2 }}"
        region: eucalyptus
      register: vm
    - copy: { content: "{{ vm.instance_ids[0] }}", dest: "{{ lookup('env', 'OUT') }}/instance" }
    - amazon.aws.ec2_instance:
        name: ansible-vm
        state: absent
        wait: true
        endpoint_url: "{{ ec2 }}"
        region: eucalyptus
`;

/** An EBS-backed instance's life as Ansible drives it: launched with a volume, stopped, started, imaged, removed. */
const EBS_PLAY = `- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ec2: "{{ lookup('env', 'EC2_URL') }}"
    common: &common { endpoint_url: "{{ lookup('env', 'EC2_URL') }}", region: eucalyptus }
  tasks:
    - amazon.aws.ec2_instance:
        name: ansible-ebs
        image_id: "{{ lookup('env', 'EMI') }}"
        instance_type: m1.small
        volumes: [{ device_name: /dev/sdf, ebs: { volume_size: 1, delete_on_termination: true } }]
        state: running
        wait: true
        <<: *common
      register: vm
    - copy: { content: "{{ vm.instance_ids[0] }}", dest: "{{ lookup('env', 'OUT') }}/ebs-instance" }
    - amazon.aws.ec2_instance: { instance_ids: "{{ vm.instance_ids }}", state: stopped, wait: true, <<: *common }
    - amazon.aws.ec2_instance: { instance_ids: "{{ vm.instance_ids }}", state: running, wait: true, <<: *common }
    - amazon.aws.ec2_ami:
        instance_id: "{{ vm.instance_ids[0] }}"
        name: ansible-ami
        wait: true
        <<: *common
      register: ami
    - copy: { content: "{{ ami.image_id }}", dest: "{{ lookup('env', 'OUT') }}/ami" }
    - amazon.aws.ec2_instance: { instance_ids: "{{ vm.instance_ids }}", state: absent, wait: true, <<: *common }
`;

let p: EucaProcess;
let dir: string;
let work: string;
let creds: { accessKeyId: string; secretAccessKey: string };
beforeAll(async () => {
  dir = tempDir();
  p = await startEuca(["run", "--data-dir", dir, "--ec2-port", "0", "--s3-port", "0", "--hypervisor", "fake"]);
  const v = readEucarc(join(dir, "credentials/admin/eucarc"));
  creds = { accessKeyId: v.AWS_ACCESS_KEY_ID!, secretAccessKey: v.AWS_SECRET_ACCESS_KEY! };
  work = mkdtempSync(join(tmpdir(), "euca-ansible-"));
  writeFileSync(join(work, "play.yml"), PLAY);
  writeFileSync(join(work, "instance.yml"), INSTANCE_PLAY);
  writeFileSync(join(work, "ebs.yml"), EBS_PLAY);
});
afterAll(async () => {
  p?.child.kill("SIGTERM");
  await p?.exited;
  rmSync(dir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const playbook = (file = "play.yml", extra: NodeJS.ProcessEnv = {}) =>
  run(PLAYBOOK, ["-i", "localhost,", join(work, file)], {
    timeoutMs: 180_000,
    env: {
      ...extra,
      PATH: "/usr/bin:/bin",
      HOME: work,
      OUT: work,
      EC2_URL: p.ec2Url,
      AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      ANSIBLE_PYTHON_INTERPRETER: "/usr/bin/python3",
      ANSIBLE_DEPRECATION_WARNINGS: "False",
      ANSIBLE_LOCAL_TEMP: join(work, "tmp"),
      ANSIBLE_NOCOLOR: "1",
    },
  });

/** An image made with the euca CLI (`--ebs`: EBS-backed), as the admin. */
async function importImage(name: string, ...flags: string[]): Promise<string> {
  const credDir = join(dir, "credentials", "admin");
  const v = readEucarc(join(credDir, "eucarc"));
  const env = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x.replace("${EUCA_KEY_DIR}", credDir)]));
  const imported = await run(
    process.execPath,
    [BUNDLE, "image", "import", imageFile(`${name}.img`, 100_000), "--name", name, ...flags],
    { env: { PATH: process.env.PATH, ...env }, timeoutMs: 60_000 },
  );
  const emi = /IMAGE\t(\S+)/.exec(imported.stdout)?.[1];
  expect(emi, imported.stderr).toMatch(/^emi-/);
  return emi!;
}

describe.runIf(existsSync(PLAYBOOK) || process.env.CI === "true")("Debian's ansible (amazon.aws)", () => {
  it("aws_caller_info, ec2_key and ec2_security_group pass, and a second run changes nothing", async () => {
    const first = await playbook();
    expect(first.stdout).toMatch(/failed=0/);
    expect(first.status).toBe(0);
    const ec2 = ec2Client(p.ec2Url, creds);
    expect((await ec2.send(new DescribeKeyPairsCommand({ KeyNames: ["ansible-key"] }))).KeyPairs).toHaveLength(1);
    const sg = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: ["ansible-web"] }))).SecurityGroups![0]!;
    expect(
      sg.IpPermissions?.map((r) => [r.IpProtocol, r.FromPort, r.ToPort, r.IpRanges?.map((x) => x.CidrIp)]),
    ).toEqual([["tcp", 22, 22, ["10.0.0.0/8"]]]);
    const again = await playbook();
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/changed=0/);
  });

  it("ec2_instance launches an instance into the default VPC's subnet, waits for it to run, and terminates it", async () => {
    const emi = await importImage("ansible");
    const r = await playbook("instance.yml", { EMI: emi });
    expect(r.stdout, r.stdout + r.stderr).toMatch(/failed=0/);
    expect(r.status).toBe(0);
    const id = readFileSync(join(work, "instance"), "utf8");
    const ec2 = ec2Client(p.ec2Url, creds);
    const inst = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
    expect(inst.State?.Name).toBe("terminated");
    expect(inst.Tags).toContainEqual({ Key: "Name", Value: "ansible-vm" });
    expect(inst.SecurityGroups?.map((g) => g.GroupName)).toEqual(["ansible-web"]);
  });

  it("ec2_instance launches an EBS-backed instance with a volume, stops and starts it; ec2_ami makes an image of it", async () => {
    const emi = await importImage("ansible-ebs", "--ebs");
    const r = await playbook("ebs.yml", { EMI: emi });
    expect(r.stdout, r.stdout + r.stderr).toMatch(/failed=0/);
    expect(r.status).toBe(0);
    const ec2 = ec2Client(p.ec2Url, creds);
    const id = readFileSync(join(work, "ebs-instance"), "utf8");
    const inst = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
    expect(inst.State?.Name).toBe("terminated");
    expect(inst.RootDeviceType).toBe("ebs");
    const ami = (await ec2.send(new DescribeImagesCommand({ ImageIds: [readFileSync(join(work, "ami"), "utf8")] })))
      .Images![0]!;
    expect(ami).toMatchObject({ State: "available", RootDeviceType: "ebs", Name: "ansible-ami" });
    expect(ami.BlockDeviceMappings!.map((m) => m.DeviceName).sort()).toEqual(["/dev/sda1", "/dev/sdf"]);
  });
});
